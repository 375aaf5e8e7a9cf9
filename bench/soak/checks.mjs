// The soak's verdict: the invariants that fail the run (no crash, nothing forwarded without an
// allow decision, no fd growth, bounded memory, rejected configs leave the service serving)
// and the warnings worth a look that do not (unexpected statuses, timeouts, missing audit lines).

/** Open fds at the end may exceed those at the start by this much (timers, a late pooled socket). */
export const FD_SLACK = 8;
/**
 * Memory: V8's heap makes RSS a sawtooth under load (60 MiB between samples is common), so a
 * single start and end figure says little. With 6 samples or more, the median of the last third
 * must stay within 25% + 16 MiB of the median of the first third; with fewer, the end must stay
 * within the larger of 64 MiB and 50% over the start.
 */
function checkMemory(usage, samples) {
  const figures = `RSS start ${usage.start.rssMiB.toFixed(1)} MiB, end ${usage.end.rssMiB.toFixed(1)} MiB, peak ${usage.peakRssMiB.toFixed(1)} MiB`;
  const rss = samples.map((sample) => sample.rssMiB);
  if (rss.length < 6) {
    const allowance = Math.max(64, usage.start.rssMiB * 0.5);
    return {
      ok: usage.end.rssMiB - usage.start.rssMiB <= allowance,
      detail: `${figures}; end allowed up to start + ${allowance.toFixed(0)} MiB (too few samples for a trend)`,
    };
  }
  const third = Math.floor(rss.length / 3);
  const early = median(rss.slice(0, third));
  const late = median(rss.slice(-third));
  const limit = early * 1.25 + 16;
  return {
    ok: late <= limit,
    detail: `${figures}; median of samples under load, first third ${early.toFixed(1)} MiB, last third ${late.toFixed(1)} MiB (allowed up to ${limit.toFixed(1)})`,
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const DENIED_PATHS = ["/app/denied/", "/app/nocert/"];
const DENIED_KINDS = new Set(["denied-by-policy", "no-client-certificate"]);
const EXAMPLES_KEPT = 5;

function isMalformed(record) {
  return record.path.startsWith("/app/malformed/") || (record.kind ?? "").startsWith("malformed/");
}

/** What the upstream saw that it should not have. */
function checkUpstream(seen, decisions) {
  const result = {
    forwarded: seen.length,
    withoutAllow: [],
    deniedKindForwarded: [],
    malformedForwarded: new Map(),
    malformedExamples: [],
    badAssertion: [],
  };
  for (const record of seen) {
    const decision = record.requestId === undefined ? undefined : decisions.get(record.requestId);
    if (decision !== "allow")
      result.withoutAllow.push({ ...record, audit: decision ?? "no audit line" });
    if (
      DENIED_PATHS.some((prefix) => record.path.startsWith(prefix)) ||
      DENIED_KINDS.has(record.kind)
    )
      result.deniedKindForwarded.push(record);
    if (isMalformed(record)) {
      const variant = record.kind ?? "malformed/?";
      result.malformedForwarded.set(variant, (result.malformedForwarded.get(variant) ?? 0) + 1);
      if (result.malformedExamples.length < EXAMPLES_KEPT) result.malformedExamples.push(record);
    }
    if (
      record.requestId === undefined ||
      !record.hasAssertion ||
      record.assertionCommonName !== "alice" ||
      // Signed for this request, or reused from an earlier allowed one (assertion.reuseFor).
      decisions.get(record.assertionJti) !== "allow"
    )
      result.badAssertion.push(record);
  }
  return result;
}

function countMessages(messages, prefix) {
  let count = 0;
  for (const [key, n] of messages) if (key.includes(prefix)) count += n;
  return count;
}

/** Invariants (each { name, ok, detail }) and warnings (strings), from everything the run gathered. */
export function evaluate({ upstream, log, usage, samples, reloads, load, stopped, crash }) {
  const invariants = [];
  const warnings = [];
  const add = (name, ok, detail) => invariants.push({ name, ok, detail });

  add(
    "no crash; exits 0 on SIGTERM",
    crash === undefined && stopped.code === 0 && !stopped.hung,
    crash !== undefined
      ? `exited during the run: ${JSON.stringify(crash)}`
      : `exit code ${stopped.code}${stopped.signal === null ? "" : ` signal ${stopped.signal}`} after ${stopped.ms} ms${stopped.hung ? " (did not exit: killed)" : ""}`,
  );

  const seen = checkUpstream(upstream.seen, log.decisions);
  add(
    "nothing forwarded without an allow decision",
    seen.withoutAllow.length === 0,
    `${seen.withoutAllow.length} of ${seen.forwarded} upstream requests had no "allow" audit line${crash !== undefined && seen.withoutAllow.length > 0 ? " (verigate died with requests in flight, whose audit lines come at their end)" : ""}`,
  );
  add(
    "no denied request reached the upstream",
    seen.deniedKindForwarded.length === 0,
    `${seen.deniedKindForwarded.length} requests of denied kinds (bob, no certificate) seen upstream`,
  );
  const malformedCount = [...seen.malformedForwarded.values()].reduce((a, b) => a + b, 0);
  add(
    "no malformed request reached the upstream",
    malformedCount === 0,
    malformedCount === 0
      ? "0 seen upstream"
      : `${malformedCount} seen upstream: ${[...seen.malformedForwarded].map(([k, n]) => `${k} ${n}`).join(", ")}`,
  );
  add(
    "every forwarded request carries alice's assertion, signed for an allowed request",
    seen.badAssertion.length === 0,
    `${seen.badAssertion.length} without a matching x-verigate-assertion`,
  );

  add(
    "no growth of open file descriptors",
    usage.end.fds <= usage.start.fds + FD_SLACK,
    `start ${usage.start.fds}, end ${usage.end.fds} (allowed up to start + ${FD_SLACK}); idle before load ${usage.baseline.fds}`,
  );
  const memory = checkMemory(usage, samples);
  add("bounded memory", memory.ok, memory.detail);

  const rejected = countMessages(
    log.messages,
    "config rejected; the config in force keeps serving",
  );
  const servedPerWindow = reloads.invalidWindows.map(
    (w) => load.allowedOkAt.filter((t) => t >= w.from && t <= w.to).length,
  );
  const quietWindows = servedPerWindow.filter((n) => n === 0).length;
  add(
    "invalid configs rejected while serving",
    rejected >= reloads.invalidWrites && quietWindows === 0,
    `${reloads.invalidWrites} invalid writes${reloads.invalidWrites === 0 ? " (not exercised: run longer)" : ""}, ${rejected} "config rejected" lines; allowed 200s during each invalid window: min ${servedPerWindow.length === 0 ? "-" : Math.min(...servedPerWindow)}${quietWindows > 0 ? ` (${quietWindows} windows with none)` : ""}`,
  );

  for (const [kind, n] of load.unexpected) warnings.push(`${kind}: ${n} unexpected outcomes`);
  let timeouts = 0;
  for (const [key, n] of load.outcomes) if (key.endsWith("timeout")) timeouts += n;
  if (timeouts > 0) warnings.push(`${timeouts} exchanges timed out on the client (a hang?)`);
  const unaudited = load.responseIds.filter((id) => !log.decisions.has(id)).length;
  if (unaudited > 0)
    warnings.push(`${unaudited} responses carried an x-request-id that has no audit line`);
  let parserAborts = 0;
  for (const [key, n] of log.auditByReason)
    if (/HTTP parser: (ECONNRESET|EPIPE|HPE_INVALID_EOF_STATE)/.test(key)) parserAborts += n;
  if (parserAborts > 0)
    warnings.push(
      `${parserAborts} audit lines are "malformed-request" denies for connections the client reset or left mid-request (HTTP parser: ECONNRESET / EPIPE / HPE_INVALID_EOF_STATE), not malformed requests`,
    );
  if (log.duplicateAuditLines > 0)
    warnings.push(`${log.duplicateAuditLines} request ids had more than one audit line`);
  if (log.unparsableLines > 0) warnings.push(`${log.unparsableLines} stdout lines were not JSON`);
  for (const [key, n] of log.messages)
    if (/^(error|fatal|warn)/.test(key) && !key.includes("config rejected"))
      warnings.push(`log: ${key} x${n}`);
  const stderr = log.stderrTail.filter((line) => !/^verigate: SIGTERM: draining$/.test(line));
  if (stderr.length > 0) warnings.push(`stderr: ${stderr.slice(-5).join(" | ")}`);

  return {
    ok: invariants.every((i) => i.ok),
    invariants,
    warnings,
    examples: {
      withoutAllow: seen.withoutAllow.slice(0, EXAMPLES_KEPT),
      deniedKindForwarded: seen.deniedKindForwarded.slice(0, EXAMPLES_KEPT),
      malformedForwarded: seen.malformedExamples,
      badAssertion: seen.badAssertion.slice(0, EXAMPLES_KEPT),
    },
    counts: { upstreamSeen: seen.forwarded, rejectedLines: rejected, unaudited, timeouts },
  };
}
