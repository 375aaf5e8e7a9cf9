// The floor of our stack: a bare http-proxy-3 behind a Node https server that verifies client
// certificates (requestCert + rejectUnauthorized), with a keep-alive agent to the upstream and
// TLS session tickets off as verigate has them. Nothing else: no policy, no log, no headers.
// Run as its own process; prints {"port": N} once listening.
//   node bench/perf/bare-proxy.mjs --upstream PORT --cert FILE --key FILE --ca FILE
import { constants } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { createServer } from "node:https";
import { parseArgs } from "node:util";
import { createProxyServer } from "http-proxy-3";

const { values } = parseArgs({
  options: {
    upstream: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
  },
});
const proxy = createProxyServer({
  target: `http://127.0.0.1:${values.upstream}`,
  agent: new Agent({ keepAlive: true, maxSockets: 256 }),
});
proxy.on("error", (_error, _req, res) => {
  // A ServerResponse for web requests; answer 502 once, if nothing was sent yet.
  if ("headersSent" in res && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = createServer(
  {
    cert: readFileSync(values.cert),
    key: readFileSync(values.key),
    ca: readFileSync(values.ca),
    requestCert: true,
    rejectUnauthorized: true,
    secureOptions: constants.SSL_OP_NO_TICKET | constants.SSL_OP_NO_RENEGOTIATION,
  },
  (req, res) => proxy.web(req, res),
);
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
