// A/B of the forwarding engines (proxy.engine: http-proxy-3 | undici), on the built code:
//   npm run build && node bench/engine-ab.mjs [--duration 10] [--warmup 5] [--runs 3] [--concurrency 8]
// Starts one `verigate serve` child per engine (loopback only, a throwaway dev PKI, one
// route to a tiny upstream), warms each up, then alternates timed runs A, B, A, B...
// Reports per run the verigate process's CPU time per request (utime + stime from
// /proc/PID/stat: what forwarding costs, whatever else shares the machine) and req/s
// (which the client and upstream, in this process, also bound). Linux only.
// With taskset available, verigate runs on CPU 0 and this process (client and upstream)
// on the others, so they do not take turns on one core.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { Agent, request } from "node:https";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeDevPki } from "../dist/dev-pki/write-dev-pki.js";

const ENGINES = ["http-proxy-3", "undici"];
const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "5" },
    runs: { type: "string", default: "3" },
    concurrency: { type: "string", default: "8" },
  },
});
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const runs = Number(args.runs);
const concurrency = Number(args.concurrency);
const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

function hasTaskset() {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const pin = hasTaskset() && availableParallelism() > 1;
if (pin) {
  const others = availableParallelism() > 2 ? `1-${availableParallelism() - 1}` : "1";
  execFileSync("taskset", ["-a", "-cp", others, String(process.pid)], { stdio: "ignore" });
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) in parentheses: utime is 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function renderConfig(engine, upstreamPort) {
  return `# written by bench/engine-ab.mjs
listen: { address: 127.0.0.1, port: 0 }
admin: { address: 127.0.0.1, port: 0 }
tls:
  cert: pki/server.pem
  key: pki/server-key.pem
  clientCAs: pki/ca.pem
  crl: pki/clients.crl
proxy: { engine: ${engine} }
reload: { watch: false }
routes:
  - name: bench
    match: { pathPrefix: /app/ }
    upstream: http://127.0.0.1:${upstreamPort}
    policy:
      allow:
        - identity.commonName: alice
`;
}

async function startVerigate(dir, engine, upstreamPort) {
  const configFile = join(dir, `${engine}.yaml`);
  await writeFile(configFile, renderConfig(engine, upstreamPort));
  const command = pin ? "taskset" : process.execPath;
  const argv = [main, "serve", "--config", configFile];
  const child = spawn(command, pin ? ["-c", "0", process.execPath, ...argv] : argv, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${engine}: verigate did not start`)), 15_000);
    child.once("exit", (code) => reject(new Error(`${engine}: verigate exited (${code})`)));
    lines.on("line", (text) => {
      if (!text.includes('"verigate listening"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(text).port);
    });
  });
  // The audit log is read and dropped from here on (in this process, not verigate's).
  return {
    engine,
    pid: child.pid,
    port,
    async stop() {
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

/** `concurrency` keep-alive clients looping GET /app/x for `ms`; returns the responses counted. */
async function load(target, identity, ms) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const until = performance.now() + ms;
  let done = 0;
  let failed = 0;
  const one = () =>
    new Promise((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: target.port,
          servername: "localhost",
          path: "/app/x",
          headers: { host: "localhost" },
          agent,
          ...identity,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode === 200) done += 1;
            else failed += 1;
            resolve();
          });
        },
      );
      req.on("error", () => {
        failed += 1;
        resolve();
      });
      req.end();
    });
  const loop = async () => {
    while (performance.now() < until) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  agent.destroy();
  return { done, failed };
}

async function measure(target, identity) {
  const cpuBefore = cpuSeconds(target.pid);
  const started = performance.now();
  const { done, failed } = await load(target, identity, durationMs);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  return { done, failed, rps: done / seconds, cpuUsPerRequest: (cpu * 1e6) / done };
}

const dir = await mkdtemp(join(tmpdir(), "verigate-engine-ab-"));
const upstream = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "text/plain", "content-length": "3" });
  res.end("ok\n");
});
upstream.keepAliveTimeout = 60_000;
upstream.listen(0, "127.0.0.1");
await once(upstream, "listening");
const targets = [];
try {
  const pki = await writeDevPki(join(dir, "pki"));
  const identity = {
    ca: await readFile(pki.ca),
    cert: await readFile(pki.clients.alice.cert),
    key: await readFile(pki.clients.alice.key),
  };
  for (const engine of ENGINES)
    targets.push(await startVerigate(dir, engine, upstream.address().port));
  console.log(
    `engine A/B: ${runs} runs of ${durationMs / 1000}s after ${warmupMs / 1000}s warm-up, ` +
      `concurrency ${concurrency}, ${pin ? "verigate pinned to CPU 0" : "not pinned"}, node ${process.version}`,
  );
  for (const target of targets) await load(target, identity, warmupMs);
  const results = new Map(ENGINES.map((engine) => [engine, []]));
  for (let run = 1; run <= runs; run++) {
    for (const target of targets) {
      await sleep(500);
      const result = await measure(target, identity);
      results.get(target.engine).push(result);
      console.log(
        `run ${run} ${target.engine.padEnd(13)} ${result.cpuUsPerRequest.toFixed(1).padStart(7)} us CPU/request ` +
          `${result.rps.toFixed(0).padStart(7)} req/s  (${result.done} ok, ${result.failed} failed)`,
      );
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log("median:");
  for (const [engine, list] of results) {
    console.log(
      `  ${engine.padEnd(13)} ${median(list.map((r) => r.cpuUsPerRequest))
        .toFixed(1)
        .padStart(7)} us CPU/request ` +
        `${median(list.map((r) => r.rps))
          .toFixed(0)
          .padStart(7)} req/s`,
    );
  }
} finally {
  for (const target of targets) await target.stop();
  upstream.close();
  upstream.closeAllConnections();
  await rm(dir, { recursive: true, force: true });
}
