// The floor of verigate's own forwarding engine: undici's Pool.stream() behind the same Node
// https server as bare-proxy.mjs (bare-server.mjs), keep-alive to the upstream. Nothing else:
// no policy, no log, no header rewriting.
//   node bench/perf/bare-undici.mjs --upstream PORT --cert FILE --key FILE --ca FILE
import { Pool } from "undici";
import { bareOptions, serveBare } from "./bare-server.mjs";

const pool = new Pool(`http://127.0.0.1:${bareOptions.upstream}`);
serveBare((req, res) => {
  // undici manages the upstream connection itself: the client's Connection is not passed.
  const { connection: _hop, ...headers } = req.headers;
  pool.stream(
    { path: req.url, method: req.method, headers, body: null },
    ({ statusCode, headers: upstreamHeaders }) => {
      res.writeHead(statusCode, upstreamHeaders);
      return res;
    },
    (error) => {
      if (error === null) return;
      if (!res.headersSent) res.writeHead(502);
      res.destroy();
    },
  );
});
