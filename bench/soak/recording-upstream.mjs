// The soak's upstream: plain HTTP on 127.0.0.1 that records every request verigate forwards
// (its x-request-id, path, and whom the x-verigate-assertion names) and misbehaves on the
// fault paths, so that the soak can check that nothing reached it without an allow decision.
//   /fault/slow/...        never answers (verigate's upstreamTimeout must give 504)
//   /fault/reset/...       destroys the connection (502)
//   /fault/half/...        sends the head and part of the body, then dies
//   /fault/badheaders/...  writes a malformed response head on the raw socket (502)
//   /app/big/...           streams 1 MiB slowly (clients abort it part way)
//   anything else          reads the body, answers 200 with a small JSON echo
import { once } from "node:events";
import { createServer } from "node:http";

const BIG_CHUNK = Buffer.alloc(16 * 1024, "x");
const BIG_CHUNKS = 64;
// Response heads an HTTP client must refuse: a header line without a colon, a status code
// out of range, a NUL inside a header value.
const BAD_HEADS = [
  "HTTP/1.1 200 OK\r\nthis line is not a header\r\ncontent-length: 2\r\n\r\nok",
  "HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\nok",
  "HTTP/1.1 200 OK\r\nx-bad: a\0b\r\ncontent-length: 2\r\n\r\nok",
];

/** The payload of a JWT, unverified (the soak checks what it says, not who signed it). */
function decodeJwtPayload(token) {
  if (typeof token !== "string") return undefined;
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

function recordOf(req) {
  const assertion = decodeJwtPayload(req.headers["x-verigate-assertion"]);
  return {
    requestId: req.headers["x-request-id"],
    path: req.url ?? "",
    kind: req.headers["x-soak-kind"],
    hasAssertion: req.headers["x-verigate-assertion"] !== undefined,
    assertionCommonName: assertion?.identity?.commonName,
    assertionJti: assertion?.jti,
  };
}

function streamBig(res) {
  res.writeHead(200, { "content-type": "application/octet-stream" });
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    if (sent === BIG_CHUNKS) return void res.end();
    sent += 1;
    res.write(BIG_CHUNK);
    setTimeout(next, 5);
  };
  next();
}

/** Starts the upstream on 127.0.0.1 (a free port). */
export async function startRecordingUpstream() {
  const seen = [];
  const sockets = new Set();
  let badHeadIndex = 0;
  const server = createServer((req, res) => {
    seen.push(recordOf(req));
    const path = req.url ?? "";
    if (path.startsWith("/fault/slow/")) return; // never answers
    if (path.startsWith("/fault/reset/")) return void req.socket.destroy();
    if (path.startsWith("/fault/half/")) {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "1000" });
      res.write("partial");
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (path.startsWith("/fault/badheaders/")) {
      const head = BAD_HEADS[badHeadIndex++ % BAD_HEADS.length];
      req.socket.end(head);
      return;
    }
    if (path.startsWith("/app/big/")) return void streamBig(res);
    let bytes = 0;
    req.on("data", (chunk) => (bytes += chunk.length));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path, bytes }));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // Requests never answered must not hold the server up at the end.
  server.requestTimeout = 0;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: server.address().port,
    /** Every request received, in arrival order. */
    seen,
    /** Connections open now (verigate's pooled and in-flight ones). */
    openConnections: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
