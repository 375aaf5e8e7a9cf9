// What the bare targets share: a Node https server that verifies client certificates
// (requestCert + rejectUnauthorized), TLS session tickets off as verigate has them, keep-alive
// 60 s, run as its own process that prints {"port": N} once listening and closes on SIGTERM.
// Arguments: --upstream PORT --cert FILE --key FILE --ca FILE.
import { constants } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { parseArgs } from "node:util";

/** The command line: the upstream port and the TLS files. */
export const { values: bareOptions } = parseArgs({
  options: {
    upstream: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
  },
});

/** Serves `handler(req, res)` behind mTLS on 127.0.0.1, on a free port. */
export function serveBare(handler) {
  const server = createServer(
    {
      cert: readFileSync(bareOptions.cert),
      key: readFileSync(bareOptions.key),
      ca: readFileSync(bareOptions.ca),
      requestCert: true,
      rejectUnauthorized: true,
      secureOptions: constants.SSL_OP_NO_TICKET | constants.SSL_OP_NO_RENEGOTIATION,
    },
    handler,
  );
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    console.log(JSON.stringify({ port: server.address().port }));
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
