// The benchmark's load generator, run as its own process (pinned to the core the proxy does not
// use): a fixed number of concurrent HTTPS clients with a client certificate, looping for a
// warm-up and then a measured window, on reused connections (a keep-alive https.Agent) or on a
// new connection per request (agent: false, no session: a full mTLS handshake each, checked
// with isSessionReused()). It reads the target's CPU time from /proc at the window's edges and
// prints one JSON line: requests, errors, latency percentiles, connections, reused sessions,
// the target's CPU ms and its own.
//   node bench/perf/load.mjs --port N --ca F --cert F --key F --mode reuse|new --path /x
//     [--concurrency 16] [--warmup 4000] [--duration 3000] [--pid P[,P...]] [--headers JSON]
//     [--plain]
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { createSecureContext } from "node:tls";
import { parseArgs } from "node:util";
import { readTotalCpuMs } from "./proc-stat.mjs";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    ca: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    mode: { type: "string", default: "reuse" },
    path: { type: "string", default: "/" },
    concurrency: { type: "string", default: "16" },
    warmup: { type: "string", default: "4000" },
    duration: { type: "string", default: "3000" },
    pid: { type: "string", default: "" },
    headers: { type: "string", default: "{}" },
    plain: { type: "boolean", default: false },
  },
});
const isNew = values.mode === "new";
const tls = {
  ca: readFileSync(values.ca),
  cert: readFileSync(values.cert),
  key: readFileSync(values.key),
};
const pids = values.pid === "" ? [] : values.pid.split(",").map(Number);
const headers = { host: "localhost", ...JSON.parse(values.headers) };
// --plain: HTTP without TLS, for the direct-to-upstream ceiling.
const { Agent, request } = values.plain ? http : https;
const agent = isNew
  ? false
  : new Agent({ keepAlive: true, maxSockets: Number(values.concurrency), ...tls });
// New connections share one secure context: building it (parsing the key and CA) per request
// would make the load generator's own setup, not the handshake, the bottleneck. No session is
// offered: agent: false keeps no session cache, so each handshake is a full one.
const perConnection = isNew && !values.plain ? { secureContext: createSecureContext(tls) } : {};

const counts = { requests: 0, errors: 0, badStatus: 0, connections: 0, reusedSessions: 0 };
let latencies = [];
let measuring = false;

function exchangeOnce() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = request(
      {
        host: "127.0.0.1",
        port: Number(values.port),
        servername: "localhost",
        path: values.path,
        headers,
        agent,
        ...perConnection,
      },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          if (measuring) {
            counts.requests += 1;
            if (res.statusCode !== 200) counts.badStatus += 1;
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          }
          resolve();
        });
        res.on("error", () => resolve());
      },
    );
    req.on("socket", (socket) => {
      // A socket from the agent's pool has finished its handshake already: count new ones.
      if (socket.connecting) {
        socket.once(values.plain ? "connect" : "secureConnect", () => {
          if (!measuring) return;
          counts.connections += 1;
          if (!values.plain && socket.isSessionReused()) counts.reusedSessions += 1;
        });
      }
    });
    req.on("error", () => {
      if (measuring) counts.errors += 1;
      resolve();
    });
    req.end();
  });
}

async function client(deadline) {
  while (Date.now() < deadline) await exchangeOnce();
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const concurrency = Number(values.concurrency);
  const warmupEnd = Date.now() + Number(values.warmup);
  const end = warmupEnd + Number(values.duration);
  const clients = [];
  for (let i = 0; i < concurrency; i++) clients.push(client(end));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, warmupEnd - Date.now())));
  latencies = [];
  const targetCpuStart = readTotalCpuMs(pids);
  const ownCpuStart = process.cpuUsage();
  const windowStart = process.hrtime.bigint();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - Date.now())));
  // The window ends here; requests still in flight finish uncounted.
  measuring = false;
  const windowMs = Number(process.hrtime.bigint() - windowStart) / 1e6;
  const targetCpuMs = readTotalCpuMs(pids) - targetCpuStart;
  const own = process.cpuUsage(ownCpuStart);
  await Promise.all(clients);
  if (agent) agent.destroy();
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      ...counts,
      windowMs,
      requestsPerSecond: (counts.requests * 1000) / windowMs,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      targetCpuMs,
      loadCpuMs: (own.user + own.system) / 1000,
    }),
  );
}

await main();
