// The benchmark harness (issue 7), loopback only: in ONE run, side by side, direct to the
// upstream (the ceiling), a bare http-proxy-3 behind an mTLS https server (the floor of our
// stack), nginx with the same mTLS (when installed), and verigate with an identity-only route
// and a FULL route (posture + bound attestation tokens, a 10-criterion rule). For each:
// req/s on reused connections, new mTLS connections/s, p50/p99, the proxy's CPU per request,
// peak RSS; 100 B and 64 KiB responses. Writes bench/RESULTS.md and prints it.
//   npm run bench        (builds first; a few minutes)
//   node bench/run.mjs [--reps 3] [--warmup 4] [--duration 3] [--concurrency 16]
//     [--new-large] [--install-nginx] [--no-nginx] [--cpu-prof] [--out FILE] [--keep]
//     [--targets direct-upstream,bare-http-proxy-3,bare-undici,nginx,verigate-identity,verigate-full]
//     [--scenarios reuse-100B,reuse-64KiB,new-100B,new-64KiB]
// The proxy is pinned to core 0 and the load generator (and the upstream behind proxies) to
// core 1 with taskset when available. See bench/README.md.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { format, resolveConfig } from "prettier";
import { writeDevPki } from "../dist/dev-pki/write-dev-pki.js";
import { summarizeCpuProfile } from "./perf/cpu-profile.mjs";
import { locateNginx } from "./perf/nginx-target.mjs";
import { readPeakRssMiB } from "./perf/proc-stat.mjs";
import { renderReport } from "./perf/results-report.mjs";
import { isPinning, readFirstJsonLine, spawnNodePinned, stopChild } from "./perf/spawn-pinned.mjs";
import { defineTargets } from "./perf/targets.mjs";
import { renderVerigateConfig } from "./perf/verigate-target.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const PROXY_CORE = 0;
const LOAD_CORE = 1;
/** Beyond warm-up and window: the load generator's start and its last requests. */
const LOAD_GRACE_MS = 30_000;

function readOptions() {
  const { values } = parseArgs({
    options: {
      reps: { type: "string", default: "3" },
      warmup: { type: "string", default: "4" },
      duration: { type: "string", default: "3" },
      concurrency: { type: "string", default: "16" },
      "new-large": { type: "boolean", default: false },
      "install-nginx": { type: "boolean", default: false },
      "no-nginx": { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
      out: { type: "string", default: join(HERE, "RESULTS.md") },
      keep: { type: "boolean", default: false },
      targets: { type: "string", default: "" },
      scenarios: { type: "string", default: "" },
    },
  });
  const options = {
    reps: Number(values.reps),
    warmupMs: Number(values.warmup) * 1000,
    durationMs: Number(values.duration) * 1000,
    concurrency: Number(values.concurrency),
    newLarge: values["new-large"],
    installNginx: values["install-nginx"],
    noNginx: values["no-nginx"],
    cpuProf: values["cpu-prof"],
    out: values.out,
    keep: values.keep,
    only: values.targets === "" ? undefined : values.targets.split(","),
    onlyScenarios: values.scenarios === "" ? undefined : values.scenarios.split(","),
  };
  if (!(options.reps >= 1 && options.warmupMs >= 4000 && options.durationMs >= 1000))
    throw new Error("--reps >= 1, --warmup >= 4 (seconds: the JIT needs it), --duration >= 1");
  return options;
}

function scenariosOf(options) {
  const list = [
    {
      name: "reuse-100B",
      title: "reused connections, 100 B responses",
      mode: "reuse",
      size: "small",
    },
    {
      name: "reuse-64KiB",
      title: "reused connections, 64 KiB responses",
      mode: "reuse",
      size: "large",
    },
    {
      name: "new-100B",
      title: "a new mTLS connection per request, 100 B",
      mode: "new",
      size: "small",
    },
  ];
  if (options.newLarge)
    list.push({
      name: "new-64KiB",
      title: "a new mTLS connection per request, 64 KiB",
      mode: "new",
      size: "large",
    });
  return list.filter((s) => options.onlyScenarios?.includes(s.name) ?? true);
}

/** One load window against a running target: the load generator's JSON result. */
async function runLoad({ target, pathPrefix, scenario, headers, pki, options }) {
  const child = spawnNodePinned(LOAD_CORE, join(HERE, "perf", "load.mjs"), [
    ...["--port", String(target.port), "--ca", pki.ca],
    ...["--cert", pki.clients.alice.cert, "--key", pki.clients.alice.key],
    ...["--mode", scenario.mode, "--path", `${pathPrefix}${scenario.size}`],
    ...["--concurrency", String(options.concurrency), "--pid", target.pids.join(",")],
    ...["--warmup", String(options.warmupMs), "--duration", String(options.durationMs)],
    ...["--headers", JSON.stringify(headers)],
    ...(target.isPlain === true ? ["--plain"] : []),
  ]);
  const timeoutMs = options.warmupMs + options.durationMs + LOAD_GRACE_MS;
  return readFirstJsonLine(child, "the load generator", timeoutMs);
}

function perRequest(result) {
  const us = (ms) => (result.requests > 0 ? (ms * 1000) / result.requests : Number.NaN);
  return { cpuUsPerRequest: us(result.targetCpuMs), loadCpuUsPerRequest: us(result.loadCpuMs) };
}

async function measureAll({ targets, scenarios, pki, options }) {
  const runs = [];
  const memory = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const target of targets) {
      const headers = await target.headers();
      const running = await target.start();
      try {
        for (const scenario of scenarios) {
          const result = await runLoad({
            target: running,
            pathPrefix: target.pathPrefix,
            scenario,
            headers,
            pki,
            options,
          });
          const run = {
            target: target.name,
            scenario: scenario.name,
            rep,
            ...result,
            ...perRequest(result),
          };
          runs.push(run);
          const f = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
          console.log(
            `rep ${rep} ${target.name.padEnd(18)} ${scenario.name.padEnd(12)} ` +
              `${f(run.requestsPerSecond, 0).padStart(6)}/s p99 ${f(run.p99Ms, 2)} ms ` +
              `cpu ${f(run.cpuUsPerRequest, 1)} µs/req, handshakes ${run.connections} ` +
              `(reused ${run.reusedSessions}), errors ${run.errors + run.badStatus}`,
          );
        }
        const peaks = running.pids.map(readPeakRssMiB).filter((v) => Number.isFinite(v));
        memory.push({ target: target.name, rep, peakRssMiB: Math.max(...peaks) });
      } finally {
        await running.stop();
      }
    }
  }
  return { runs, memory };
}

/** verigate under load with --cpu-prof: the top self-time functions of one scenario. */
async function profileVerigate({ targets, pki, options, dir, targetName, scenario }) {
  const target = targets.find((t) => t.name === targetName);
  const profileDir = join(dir, `cpu-prof-${targetName}-${scenario.mode}`);
  const running = await target.start(["--cpu-prof", "--cpu-prof-dir", profileDir]);
  try {
    await runLoad({
      target: running,
      pathPrefix: target.pathPrefix,
      scenario,
      headers: await target.headers(),
      pki,
      options,
    });
  } finally {
    await running.stop();
  }
  const table = await summarizeCpuProfile(profileDir);
  return `### ${targetName}, ${scenario.name} (warm-up and window; self time)\n\n${table}\n`;
}

/** Profiles of both routes on reused and on new connections (as --targets and --scenarios allow). */
async function profileAll(context) {
  const { options } = context;
  const parts = [];
  const reuse = { name: "reuse-100B", mode: "reuse", size: "small" };
  const fresh = { name: "new-100B", mode: "new", size: "small" };
  const wanted = ([targetName, scenario]) =>
    (options.only?.includes(targetName) ?? true) &&
    (options.onlyScenarios?.includes(scenario.name) ?? true);
  for (const [targetName, scenario] of [
    ["verigate-full", reuse],
    ["verigate-identity", reuse],
    ["verigate-full", fresh],
    ["verigate-identity", fresh],
  ].filter(wanted)) {
    parts.push(await profileVerigate({ ...context, targetName, scenario }));
  }
  return parts.join("\n");
}

/** How busy the machine is: other processes skew req/s and latency more than CPU per request. */
function readMachineLoad() {
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  let pressure = "n/a";
  try {
    pressure = /avg60=([\d.]+)/.exec(readFileSync("/proc/pressure/cpu", "utf8"))?.[1] ?? "n/a";
  } catch {
    // no PSI on this kernel
  }
  return `load average ${load}, CPU pressure (some, avg60) ${pressure}%`;
}

/** What bounds the targets this run missed: bench/analysis.md, written by hand after a run. */
function readAnalysis() {
  try {
    return readFileSync(join(HERE, "analysis.md"), "utf8");
  } catch {
    return undefined;
  }
}

async function main() {
  const options = readOptions();
  const dir = await mkdtemp(join(tmpdir(), "verigate-bench-"));
  const notes = [];
  const pki = await writeDevPki(join(dir, "pki"));
  // The upstream behind the proxies shares the load generator's core: the proxy keeps its own.
  const upstreamChild = spawnNodePinned(LOAD_CORE, join(HERE, "perf", "upstream.mjs"), []);
  const { port: upstreamPort } = await readFirstJsonLine(upstreamChild, "the upstream");
  try {
    const nginx = options.noNginx
      ? { skipped: "--no-nginx" }
      : locateNginx({ install: options.installNginx });
    if (nginx.skipped !== undefined) notes.push(`nginx skipped: ${nginx.skipped}`);
    if (nginx.installed !== undefined)
      notes.push(`nginx installed for this run (${nginx.installed})`);
    const { targets, configFile } = defineTargets({
      dir,
      pki,
      upstreamPort,
      nginx,
      core: PROXY_CORE,
    });
    await writeFile(configFile, renderVerigateConfig({ upstreamPort }));
    const scenarios = scenariosOf(options);
    const loadAtStart = readMachineLoad();
    const started = Date.now();
    const measured = targets.filter((t) => options.only?.includes(t.name) ?? true);
    const { runs, memory } = await measureAll({ targets: measured, scenarios, pki, options });
    const profile = options.cpuProf ? await profileAll({ targets, pki, options, dir }) : undefined;
    const loadAtEnd = readMachineLoad();
    const setup = [
      `${new Date().toISOString()}, Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"})`,
      isPinning
        ? `pinned with taskset: proxy on core ${PROXY_CORE}; load generator and upstream on core ${LOAD_CORE}`
        : "NOT pinned (taskset missing or a single core): figures mix the processes' CPU",
      `${options.reps} repetitions; per window ${options.warmupMs / 1000} s warm-up then ${options.durationMs / 1000} s measured; concurrency ${options.concurrency}; run took ${Math.round((Date.now() - started) / 1000)} s`,
      `machine at start: ${loadAtStart}; at end: ${loadAtEnd} (other processes running skew req/s and latency; CPU per request much less)`,
      "load generator: bench/perf/load.mjs (Node https; keep-alive Agent for reuse, agent: false and no session for new connections)",
      "upstream: node:http, 100 B or 64 KiB; behind every proxy over kept-alive connections; TLS: ECDSA P-256 dev PKI, no CRL, no session tickets/cache",
      "verigate: `serve` with its audit log (one JSON line per request) written to a file; the signed upstream assertion (ES256) on every request; nginx logs each request too (access_log)",
    ];
    const report = renderReport({
      analysis: readAnalysis(),
      runs,
      memory,
      targets: measured.map((t) => t.name),
      scenarios,
      setup,
      notes,
      profile,
    });
    // Formatted as the repository's Prettier config wants it, so that `prettier --check` passes.
    const formatted = await format(report, {
      ...(await resolveConfig(options.out)),
      parser: "markdown",
    });
    await writeFile(options.out, formatted);
    console.log(`\n${formatted}written to ${options.out}`);
  } finally {
    await stopChild(upstreamChild);
    if (!options.keep) await rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

await main();
