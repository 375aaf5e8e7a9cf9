// Soak run of verigate, on the built code, loopback only (npm run soak builds first):
//   node bench/soak.mjs [--duration 180] [--concurrency 32] [--out result.json] [--keep]
// (or SOAK_DURATION, SOAK_CONCURRENCY, SOAK_OUT). Starts `verigate serve` as a child process
// with a throwaway PKI and a recording upstream, mixes allowed, denied, malformed and aborted
// requests with upstream faults and config reloads, then checks: no crash, nothing forwarded
// without an allow decision, no fd growth, bounded memory. Exit 1 if any check fails.
// Linux only (reads /proc). See bench/README.md.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeDevPki } from "../dist/dev-pki/write-dev-pki.js";
import { evaluate } from "./soak/checks.mjs";
import { renderConfig, startConfigReloads, writeConfigFile } from "./soak/config-reloads.mjs";
import { createTallies, runLoad } from "./soak/load.mjs";
import { readProcessUsage } from "./soak/process-usage.mjs";
import { startRecordingUpstream } from "./soak/recording-upstream.mjs";
import { buildResult, renderText } from "./soak/report.mjs";
import { startVerigateChild } from "./soak/verigate-child.mjs";

const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const WARM_UP_MS = 5_000;
const SAMPLE_EVERY_MS = 10_000;
const SETTLE_MS = 3_000;

/** What to stop if the soak itself fails part way. */
const running = { child: undefined, upstream: undefined };

function readOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: process.env.SOAK_DURATION ?? "180" },
      concurrency: { type: "string", default: process.env.SOAK_CONCURRENCY ?? "32" },
      out: { type: "string", default: process.env.SOAK_OUT },
      keep: { type: "boolean", default: false },
    },
  });
  const duration = Number(values.duration);
  const concurrency = Number(values.concurrency);
  if (!(duration >= 10) || !Number.isInteger(concurrency) || concurrency < 1)
    throw new Error("--duration must be at least 10 (seconds), --concurrency a positive integer");
  return { duration, concurrency, out: values.out, keep: values.keep };
}

async function readCredentials(pki) {
  const read = (path) => readFile(path, "utf8");
  return {
    ca: await read(pki.ca),
    alice: { cert: await read(pki.clients.alice.cert), key: await read(pki.clients.alice.key) },
    bob: { cert: await read(pki.clients.bob.cert), key: await read(pki.clients.bob.key) },
  };
}

async function main() {
  const options = readOptions();
  const dir = await mkdtemp(join(tmpdir(), "verigate-soak-"));
  const logs = join(dir, "logs"); // apart from the config's folder, which verigate watches
  await mkdir(logs);
  const pki = await writeDevPki(join(dir, "pki"));
  const upstream = await startRecordingUpstream();
  running.upstream = upstream;
  const configFile = join(dir, "verigate.yaml");
  await writeConfigFile(configFile, renderConfig({ upstreamPort: upstream.port, version: 0 }));
  const verigate = await startVerigateChild({
    main: MAIN,
    configFile,
    logFile: join(logs, "verigate.log"),
    errFile: join(logs, "verigate.stderr"),
  });
  running.child = verigate.child;
  console.log(
    `verigate pid ${verigate.pid} on 127.0.0.1:${verigate.port} (admin ${verigate.adminPort}); ` +
      `${options.duration} s at concurrency ${options.concurrency}; files in ${dir}`,
  );

  // NaN figures (a failed check) if verigate is gone.
  const measure = () =>
    readProcessUsage(verigate.pid).catch(() => ({
      rssMiB: Number.NaN,
      peakRssMiB: Number.NaN,
      fds: Number.NaN,
      fdKinds: {},
    }));
  const usage = { baseline: await measure() };
  const credentials = await readCredentials(pki);
  const tallies = createTallies();
  let loadMs = 0;
  const load = async (label, deadline) => {
    const from = Date.now();
    await runLoad({
      port: verigate.port,
      credentials,
      concurrency: options.concurrency,
      deadline,
      shouldStop: () => !verigate.isAlive(),
      tallies,
      label,
    });
    loadMs += Date.now() - from;
  };
  const started = Date.now();
  const samples = [];
  const sample = async () => {
    if (!verigate.isAlive()) return;
    const now = await readProcessUsage(verigate.pid).catch(() => undefined);
    if (now === undefined) return;
    const t = Math.round((Date.now() - started) / 1000);
    samples.push({ t, rssMiB: now.rssMiB, fds: now.fds });
    console.log(`  t=${t}s RSS ${now.rssMiB.toFixed(1)} MiB, ${now.fds} fds`);
  };
  const sampler = setInterval(() => void sample(), SAMPLE_EVERY_MS);

  // Start and end are measured alike: after load, with the clients' connections closed and a
  // settle, so that a difference is what the load left behind, not what it holds open.
  await load("w", started + WARM_UP_MS);
  await sleep(SETTLE_MS);
  usage.start = await measure();
  const reloads = startConfigReloads({
    file: configFile,
    upstreamPort: upstream.port,
    child: verigate.child,
  });
  await load("m", started + options.duration * 1000 + SETTLE_MS);
  clearInterval(sampler);
  await reloads.stop();
  await sleep(SETTLE_MS);
  const crashedBeforeEnd = verigate.crash();
  usage.end = await measure();
  // VmHWM: the high-water mark over the whole life of the process, not only at the samples.
  usage.peakRssMiB = Number.isNaN(usage.end.peakRssMiB)
    ? Math.max(usage.start.peakRssMiB, ...samples.map((s) => s.rssMiB))
    : usage.end.peakRssMiB;
  usage.upstreamOpenAtEnd = upstream.openConnections();
  const stopped = await verigate.stop();
  await upstream.close();

  const verdict = evaluate({
    upstream,
    log: verigate.state,
    usage,
    samples,
    reloads: reloads.stats,
    load: tallies,
    stopped,
    crash: crashedBeforeEnd,
  });
  const result = buildResult({
    options,
    elapsedS: loadMs / 1000,
    load: tallies,
    log: verigate.state,
    reloads: reloads.stats,
    usage,
    samples,
    verdict,
  });
  console.log(`\n${renderText(result)}`);
  if (options.out !== undefined)
    await writeFile(options.out, `${JSON.stringify(result, null, 2)}\n`);
  if (verdict.ok && !options.keep) {
    await rm(dir, { recursive: true, force: true });
  } else {
    console.log(`kept ${dir} (config, pki/, logs/verigate.log: the audit log)`);
  }
  return verdict.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
    running.child?.kill("SIGKILL");
    void running.upstream?.close();
  },
);
