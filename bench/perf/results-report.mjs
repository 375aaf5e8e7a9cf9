// Turns the benchmark's measurements into bench/RESULTS.md (and the same tables on stdout): one
// table per scenario with min / median / max over the repetitions, the ratios of verigate's two
// routes to the bare http-proxy-3 and to nginx (medians), and the targets, met or missed.

/** Targets from the issue: the FULL route against the bare proxy in the same run. */
const TARGETS = {
  cpuPerRequest: 1.11,
  aimCpuPerRequest: 0.7,
  requestsPerSecond: 0.9,
  p99: 1.25,
  newConnectionCpu: 1.1,
};
const VERIGATES = ["verigate-identity", "verigate-full"];

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function spread(values, digits) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return "n/a";
  const f = (v) => v.toFixed(digits);
  return `${f(median(finite))} (${f(Math.min(...finite))}–${f(Math.max(...finite))})`;
}

function table(header, rows) {
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

/** Runs of one target in one scenario. */
function runsOf(runs, target, scenario) {
  return runs.filter((r) => r.target === target && r.scenario === scenario);
}

/** Median of one figure over the runs of a target in a scenario. */
function medianOf(runs, target, scenario, figure) {
  return median(runsOf(runs, target, scenario).map((r) => r[figure]));
}

function scenarioTable(runs, targets, scenario) {
  const rows = [];
  for (const target of targets) {
    const mine = runsOf(runs, target, scenario.name);
    if (mine.length === 0) continue;
    const pick = (figure) => mine.map((r) => r[figure]);
    rows.push([
      target,
      spread(pick("requestsPerSecond"), 0),
      spread(pick("p50Ms"), 2),
      spread(pick("p99Ms"), 2),
      spread(pick("cpuUsPerRequest"), 1),
      spread(
        mine.map((r) => (r.targetCpuMs * 100) / r.windowMs),
        0,
      ),
      spread(pick("loadCpuUsPerRequest"), 1),
      `${mine.reduce((s, r) => s + r.connections, 0)} / ${mine.reduce((s, r) => s + r.reusedSessions, 0)}`,
      String(mine.reduce((s, r) => s + r.errors + r.badStatus, 0)),
    ]);
  }
  const rate = scenario.mode === "new" ? "new conn/s" : "req/s";
  return table(
    [
      "target",
      rate,
      "p50 ms",
      "p99 ms",
      "proxy CPU µs/req",
      "proxy core busy %",
      "load gen CPU µs/req",
      "connections opened / TLS sessions resumed",
      "errors",
    ],
    rows,
  );
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

function formatRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a";
}

function ratioTable(runs, scenario, baselines) {
  const rows = [];
  for (const target of VERIGATES) {
    for (const baseline of baselines) {
      const cpu = ratio(
        medianOf(runs, target, scenario.name, "cpuUsPerRequest"),
        medianOf(runs, baseline, scenario.name, "cpuUsPerRequest"),
      );
      if (!Number.isFinite(cpu)) continue;
      rows.push([
        `${target} / ${baseline}`,
        formatRatio(cpu),
        formatRatio(
          ratio(
            medianOf(runs, target, scenario.name, "requestsPerSecond"),
            medianOf(runs, baseline, scenario.name, "requestsPerSecond"),
          ),
        ),
        formatRatio(
          ratio(
            medianOf(runs, target, scenario.name, "p99Ms"),
            medianOf(runs, baseline, scenario.name, "p99Ms"),
          ),
        ),
      ]);
    }
  }
  return table(["ratio (medians)", "CPU/req", "req/s", "p99"], rows);
}

function verdict(value, limit, isUpper) {
  if (!Number.isFinite(value)) return "n/a";
  return (isUpper ? value <= limit : value >= limit) ? "**met**" : "**missed**";
}

function targetRows(runs, scenarios) {
  const rows = [];
  const full = "verigate-full";
  const bare = "bare-http-proxy-3";
  for (const scenario of scenarios) {
    const of = (target, figure) => medianOf(runs, target, scenario.name, figure);
    const cpu = ratio(of(full, "cpuUsPerRequest"), of(bare, "cpuUsPerRequest"));
    if (scenario.mode === "new") {
      rows.push([
        scenario.name,
        "new-connection CPU/req <= 1.1x bare https + hop",
        formatRatio(cpu),
        verdict(cpu, TARGETS.newConnectionCpu, true),
      ]);
      continue;
    }
    const rps = ratio(of(full, "requestsPerSecond"), of(bare, "requestsPerSecond"));
    const p99 = ratio(of(full, "p99Ms"), of(bare, "p99Ms"));
    rows.push(
      [
        scenario.name,
        "CPU/req <= 1.11x bare",
        formatRatio(cpu),
        verdict(cpu, TARGETS.cpuPerRequest, true),
      ],
      [
        scenario.name,
        "aim: CPU/req <= 0.70x bare",
        formatRatio(cpu),
        verdict(cpu, TARGETS.aimCpuPerRequest, true),
      ],
      [
        scenario.name,
        "req/s >= 0.90x bare",
        formatRatio(rps),
        verdict(rps, TARGETS.requestsPerSecond, false),
      ],
      [scenario.name, "p99 <= 1.25x bare", formatRatio(p99), verdict(p99, TARGETS.p99, true)],
    );
  }
  return table(["scenario", "target (FULL route vs bare http-proxy-3)", "measured", ""], rows);
}

function memoryTable(memory, targets) {
  const rows = targets
    .filter((t) => memory.some((m) => m.target === t))
    .map((t) => [
      t,
      spread(
        memory.filter((m) => m.target === t).map((m) => m.peakRssMiB),
        1,
      ),
    ]);
  return table(["target", "peak RSS (VmHWM) MiB, per process over all its scenarios"], rows);
}

/** The whole report as Markdown. */
export function renderReport({
  runs,
  memory,
  targets,
  scenarios,
  setup,
  notes,
  profile,
  analysis,
}) {
  const parts = [
    "# verigate benchmark results",
    "",
    "Written by `npm run bench` (bench/run.mjs); loopback only. Figures are",
    "median (min–max) over the repetitions. CPU per request is the proxy process's utime+stime",
    "(/proc/PID/stat) over the measured window divided by the requests completed in it: the",
    "robust figure when the load generator is the bottleneck.",
    "",
    ...setup.map((line) => `- ${line}`),
    "",
  ];
  for (const scenario of scenarios) {
    parts.push(
      `## ${scenario.name}: ${scenario.title}`,
      "",
      scenarioTable(runs, targets, scenario),
      "",
    );
    const baselines = ["bare-http-proxy-3", "bare-undici", "nginx"].filter((t) =>
      targets.includes(t),
    );
    parts.push(ratioTable(runs, scenario, baselines), "");
  }
  parts.push("## Peak memory", "", memoryTable(memory, targets), "");
  parts.push("## Targets (issue 7)", "", targetRows(runs, scenarios), "");
  if (analysis !== undefined) parts.push(analysis.trim(), "");
  if (profile !== undefined) parts.push("## CPU profiles of verigate", "", profile, "");
  if (notes.length > 0) parts.push("## Notes", "", ...notes.map((n) => `- ${n}`), "");
  return parts.join("\n");
}
