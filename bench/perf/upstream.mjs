// The benchmark's upstream, run as its own process: node:http on 127.0.0.1 answering every
// request with 100 bytes, or 64 KiB when the path contains "large". It prints one JSON line,
// {"port": N}, once listening. Usage: node bench/perf/upstream.mjs
import { createServer } from "node:http";

const SMALL = Buffer.alloc(100, "s");
const LARGE = Buffer.alloc(64 * 1024, "l");

const server = createServer((req, res) => {
  const body = (req.url ?? "").includes("large") ? LARGE : SMALL;
  // Drain any request body before answering, as a real upstream would.
  req.resume();
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
