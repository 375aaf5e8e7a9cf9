// The soak's report: plain-text tables on stdout for a person, and one JSON document
// (`--out`) with the same figures for a machine or a later comparison.

function formatTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const isNumber = rows.length > 0 ? rows[0].map((cell) => typeof cell === "number") : [];
  const line = (cells) =>
    cells
      .map((cell, i) =>
        isNumber[i] ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]),
      )
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function entriesOf(map) {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const mib = (value) => value.toFixed(1);

/** The JSON result: everything the tables show, as data. */
export function buildResult({ options, elapsedS, load, log, reloads, usage, samples, verdict }) {
  const byKind = {};
  for (const [key, count] of entriesOf(load.outcomes)) {
    const [kind, outcome] = key.split("\t");
    (byKind[kind] ??= {})[outcome] = count;
  }
  const clientErrors = {};
  for (const [key, count] of load.outcomes) {
    const match = /(error:|body-error:|timeout|soak-error:)(\S*)/.exec(key.split("\t")[1]);
    if (match !== null)
      clientErrors[`${match[1]}${match[2]}`] =
        (clientErrors[`${match[1]}${match[2]}`] ?? 0) + count;
  }
  const audit = entriesOf(log.auditByReason).map(([key, count]) => {
    const [decision, reasons, status, route] = key.split("\t");
    return { decision, reasons, status: Number(status), route, count };
  });
  const latencies = [...load.allowedLatenciesMs].sort((a, b) => a - b);
  const messages = Object.fromEntries(entriesOf(log.messages));
  const countOf = (text) =>
    Object.entries(messages)
      .filter(([key]) => key.includes(text))
      .reduce((sum, [, n]) => sum + n, 0);
  return {
    ok: verdict.ok,
    options,
    elapsedS: Math.round(elapsedS),
    requests: {
      total: load.total,
      perSecond: Math.round(load.total / elapsedS),
      byKind,
      unexpectedByKind: Object.fromEntries(load.unexpected),
      allowedLatencyMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1),
      },
    },
    clientErrors,
    audit: { lines: log.decisions.size, byReason: audit },
    log: messages,
    reloads: {
      ...reloads,
      applied: countOf("config reloaded"),
      unchanged: countOf("config unchanged"),
      rejected: countOf("config rejected"),
    },
    usage: { ...usage, samples },
    invariants: verdict.invariants,
    warnings: verdict.warnings,
    examples: verdict.examples,
  };
}

/** The tables, for stdout. */
export function renderText(result) {
  const out = [];
  const { requests } = result;
  out.push(
    `verigate soak: ${result.elapsedS} s of load at concurrency ${result.options.concurrency}: ` +
      `${requests.total} requests (${requests.perSecond}/s)`,
  );
  const kindRows = [];
  for (const [kind, outcomes] of Object.entries(requests.byKind))
    for (const [outcome, count] of Object.entries(outcomes)) kindRows.push([kind, outcome, count]);
  out.push(
    "",
    "Requests by kind and client-side outcome",
    formatTable(["kind", "outcome", "count"], kindRows),
  );
  const unexpected = Object.entries(requests.unexpectedByKind);
  out.push(
    `unexpected outcomes: ${unexpected.length === 0 ? "none" : unexpected.map(([k, n]) => `${k} ${n}`).join(", ")}`,
  );
  const l = requests.allowedLatencyMs;
  out.push(
    `allowed 200 latency: p50 ${l.p50?.toFixed(1)} ms, p99 ${l.p99?.toFixed(1)} ms, max ${l.max?.toFixed(1)} ms`,
  );
  out.push(
    "",
    "Client errors by code",
    formatTable(
      ["code", "count"],
      Object.entries(result.clientErrors)
        .sort()
        .map(([k, n]) => [k, n]),
    ),
  );
  out.push(
    "",
    `Audit decisions (${result.audit.lines} audit lines)`,
    formatTable(
      ["decision", "reasons", "status", "route", "count"],
      result.audit.byReason.map((a) => [
        a.decision,
        a.reasons,
        String(a.status),
        a.route || "-",
        a.count,
      ]),
    ),
  );
  out.push(
    "",
    "Other log lines",
    formatTable(
      ["level: message", "count"],
      Object.entries(result.log).map(([k, n]) => [k, n]),
    ),
  );
  const r = result.reloads;
  out.push(
    "",
    `Reloads: wrote ${r.validWrites} valid and ${r.invalidWrites} invalid configs, sent ${r.sighups} SIGHUPs; ` +
      `log: ${r.applied} applied, ${r.unchanged} unchanged, ${r.rejected} rejected`,
  );
  const u = result.usage;
  out.push(
    "",
    "Process (verigate child)",
    formatTable(
      ["when", "RSS MiB", "fds", "fds by kind"],
      [
        [
          "idle, before load",
          mib(u.baseline.rssMiB),
          String(u.baseline.fds),
          JSON.stringify(u.baseline.fdKinds),
        ],
        [
          "start (5 s load, settle)",
          mib(u.start.rssMiB),
          String(u.start.fds),
          JSON.stringify(u.start.fdKinds),
        ],
        ["end (load, settle)", mib(u.end.rssMiB), String(u.end.fds), JSON.stringify(u.end.fdKinds)],
        ["peak (VmHWM)", mib(u.peakRssMiB), "", ""],
      ],
    ),
    `samples (s: RSS MiB/fds): ${u.samples.map((s) => `${s.t}: ${mib(s.rssMiB)}/${s.fds}`).join(", ")}`,
    `upstream connections open at the end (verigate's idle pool): ${u.upstreamOpenAtEnd}`,
  );
  out.push("", "Invariants");
  for (const i of result.invariants)
    out.push(`  ${i.ok ? "PASS" : "FAIL"}  ${i.name}: ${i.detail}`);
  out.push("", `Warnings${result.warnings.length === 0 ? ": none" : ""}`);
  for (const w of result.warnings) out.push(`  - ${w}`);
  for (const [name, examples] of Object.entries(result.examples))
    if (examples.length > 0) out.push(`  e.g. ${name}: ${JSON.stringify(examples.slice(0, 3))}`);
  out.push("", result.ok ? "SOAK PASSED" : "SOAK FAILED");
  return out.join("\n");
}
