// Scaling from 1 to 2 workers: verigate's identity-only route on reused connections, with
// `workers: 1` and then `workers: 2` (state.redis, a shared assertion key), under the same
// load. Needs a Redis on 127.0.0.1:6390 (as .ci/run starts one). Nothing is pinned: with 2
// workers verigate wants both cores, which the load generator and the upstream share, so on a
// 2-core machine the figure is a lower bound of the scaling, not a measure of it.
//   npm run build && node bench/workers-scaling.mjs [--runs 3] [--concurrency 32]
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeDevPki } from "../dist/dev-pki/write-dev-pki.js";
import { readChildPids } from "./perf/proc-stat.mjs";
import { readFirstJsonLine, stopChild } from "./perf/spawn-pinned.mjs";
import { renderVerigateConfig } from "./perf/verigate-target.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const MAIN = join(HERE, "..", "dist", "cli", "main.js");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
  },
});

function node(script, args) {
  return spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
}

/** Waits for a JSON log line with this `msg`. */
function waitForLine(child, msg) {
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      for (const line of buffered.split("\n").slice(0, -1)) {
        const entry = JSON.parse(line);
        if (entry.msg === msg) resolve(entry);
      }
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    });
    child.once("exit", (code) => reject(new Error(`verigate exited with ${code}`)));
  });
}

async function measure(dir, pki, upstreamPort, workers) {
  const config = renderVerigateConfig({ upstreamPort }).replace(
    "reload: { watch: false }",
    `reload: { watch: false }\nworkers: ${workers}\nassertion: { key: assertion.pem }\n` +
      `state: { redis: { url: "redis://127.0.0.1:6390", keyPrefix: "bench-${Date.now()}:" } }`,
  );
  await writeFile(join(dir, "verigate.yaml"), config);
  const verigate = spawn(
    process.execPath,
    [MAIN, "serve", "--config", join(dir, "verigate.yaml")],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const ready = await waitForLine(
    verigate,
    workers === 1 ? "verigate listening" : "verigate workers listening",
  );
  verigate.stdout.resume();
  const pids = [verigate.pid, ...readChildPids(verigate.pid)];
  const load = node(join(HERE, "perf", "load.mjs"), [
    ...["--port", String(ready.port), "--ca", pki.ca],
    ...["--cert", pki.clients.alice.cert, "--key", pki.clients.alice.key],
    ...["--mode", "reuse", "--path", "/id/x", "--concurrency", values.concurrency],
    ...["--warmup", "5000", "--duration", "5000", "--pid", pids.join(",")],
  ]);
  const result = await readFirstJsonLine(load, "the load generator", 60_000);
  await stopChild(load);
  await stopChild(verigate);
  return result;
}

const dir = await mkdtemp(join(tmpdir(), "verigate-workers-bench-"));
try {
  const pki = await writeDevPki(join(dir, "pki"));
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  await writeFile(join(dir, "assertion.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
  const upstream = node(join(HERE, "perf", "upstream.mjs"), []);
  const { port: upstreamPort } = await readFirstJsonLine(upstream, "the upstream");
  console.log("workers  run  req/s   p99 ms  verigate CPU µs/req");
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const workers of [1, 2]) {
      const r = await measure(dir, pki, upstreamPort, workers);
      const rps = r.requestsPerSecond;
      const cpu = (r.targetCpuMs * 1000) / r.requests;
      console.log(
        `${workers}        ${run}    ${rps.toFixed(0).padStart(5)}  ${r.p99Ms.toFixed(1).padStart(6)}  ${cpu.toFixed(0)}`,
      );
    }
  }
  await stopChild(upstream);
} finally {
  await rm(dir, { recursive: true, force: true });
}
