// The floor of verigate's own forwarding engine: undici's Pool.stream() behind a Node https
// server that verifies client certificates, exactly as bare-proxy.mjs does with http-proxy-3
// (keep-alive to the upstream, TLS session tickets off). Nothing else: no policy, no log, no
// header rewriting. Run as its own process; prints {"port": N} once listening.
//   node bench/perf/bare-undici.mjs --upstream PORT --cert FILE --key FILE --ca FILE
import { constants } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { parseArgs } from "node:util";
import { Pool } from "undici";

const { values } = parseArgs({
  options: {
    upstream: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
  },
});
const pool = new Pool(`http://127.0.0.1:${values.upstream}`);
const server = createServer(
  {
    cert: readFileSync(values.cert),
    key: readFileSync(values.key),
    ca: readFileSync(values.ca),
    requestCert: true,
    rejectUnauthorized: true,
    secureOptions: constants.SSL_OP_NO_TICKET | constants.SSL_OP_NO_RENEGOTIATION,
  },
  (req, res) => {
    // undici manages the upstream connection itself: the client's Connection is not passed.
    const { connection: _hop, ...headers } = req.headers;
    pool.stream(
      { path: req.url, method: req.method, headers, body: null },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, headers);
        return res;
      },
      (error) => {
        if (error === null) return;
        if (!res.headersSent) res.writeHead(502);
        res.destroy();
      },
    );
  },
);
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
