// The floor of our stack: a bare http-proxy-3 behind a Node https server that verifies client
// certificates (bare-server.mjs), with a keep-alive agent to the upstream. Nothing else: no
// policy, no log, no headers.
//   node bench/perf/bare-proxy.mjs --upstream PORT --cert FILE --key FILE --ca FILE
import { Agent } from "node:http";
import { createProxyServer } from "http-proxy-3";
import { bareOptions, serveBare } from "./bare-server.mjs";

const proxy = createProxyServer({
  target: `http://127.0.0.1:${bareOptions.upstream}`,
  agent: new Agent({ keepAlive: true, maxSockets: 256 }),
});
proxy.on("error", (_error, _req, res) => {
  // A ServerResponse for web requests; answer 502 once, if nothing was sent yet.
  if ("headersSent" in res && !res.headersSent) res.writeHead(502);
  res.end();
});
serveBare((req, res) => proxy.web(req, res));
