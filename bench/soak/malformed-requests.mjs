// Requests an HTTP client library would not send, written byte for byte on an mTLS
// connection as alice (so that only their malformation can refuse them). Each must be
// refused (400, or 431 for an oversized head) and must never reach the upstream.
import { connect } from "node:tls";

const EXCHANGE_TIMEOUT_MS = 8_000;

/** A request head with Host, Connection: close and x-soak-kind, then `extra` header lines. */
function head(variant, requestLine, ...extra) {
  const headers = [
    "Host: localhost",
    ...extra,
    "Connection: close",
    `x-soak-kind: malformed/${variant}`,
  ];
  return `${requestLine}\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
}

/**
 * name -> { bytes(seq), expect }. Paths are under /app/malformed/ and the kind is in
 * x-soak-kind, so the upstream can tell one that got through, however it was rewritten.
 */
export const MALFORMED_VARIANTS = {
  "dot-dot-above-root": {
    bytes: (seq) =>
      head("dot-dot-above-root", `GET /app/malformed/${seq}/../../../../etc/passwd HTTP/1.1`),
    expect: /^400$/,
  },
  "encoded-slash": {
    bytes: (seq) => head("encoded-slash", `GET /app/malformed/${seq}/a%2F..%2Fb HTTP/1.1`),
    expect: /^400$/,
  },
  "encoded-backslash": {
    bytes: (seq) => head("encoded-backslash", `GET /app/malformed/${seq}/a%5c..%5cb HTTP/1.1`),
    expect: /^400$/,
  },
  "dot-dot-semicolon": {
    bytes: (seq) => head("dot-dot-semicolon", `GET /app/malformed/${seq}/..;/x HTTP/1.1`),
    expect: /^400$/,
  },
  "duplicate-host": {
    bytes: (seq) =>
      head("duplicate-host", `GET /app/malformed/${seq}/dup HTTP/1.1`, "Host: evil.localhost"),
    expect: /^400$/,
  },
  "nul-in-target": {
    bytes: (seq) => head("nul-in-target", `GET /app/malformed/${seq}/\0x HTTP/1.1`),
    expect: /^400$/,
  },
  "content-length-and-chunked": {
    bytes: (seq) =>
      head(
        "content-length-and-chunked",
        `POST /app/malformed/${seq}/clte HTTP/1.1`,
        "Content-Length: 5",
        "Transfer-Encoding: chunked",
      ) + "0\r\n\r\n",
    expect: /^400$/,
  },
  "absolute-form": {
    bytes: (seq) =>
      head("absolute-form", `GET http://evil.localhost/app/malformed/${seq}/abs HTTP/1.1`),
    expect: /^400$/,
  },
  "oversized-head": {
    bytes: (seq) =>
      head(
        "oversized-head",
        `GET /app/malformed/${seq}/big HTTP/1.1`,
        `x-pad: ${"a".repeat(20_000)}`,
      ),
    expect: /^431$/,
  },
  "not-http": {
    bytes: () => "\x16\x03\x01garbage that is no request line\r\n\r\n",
    expect: /^400$/,
  },
};

function codeOf(error) {
  return error?.code ?? error?.message ?? String(error);
}

/**
 * Sends `bytes` on a new mTLS connection and reads the status line and head of the answer.
 * Resolves { outcome, requestId }: the status code, or `error:CODE`, `no-response`, `timeout`.
 */
export function sendRaw({ port, ca, identity, bytes }) {
  return new Promise((resolve) => {
    let received = "";
    let done = false;
    const statusOf = () => /^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1];
    const finish = (fallback) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const requestId = /\r\nx-request-id: *([^\r\n]+)/i.exec(received)?.[1];
      resolve({ outcome: statusOf() ?? fallback, requestId });
    };
    const socket = connect(
      { host: "127.0.0.1", port, servername: "localhost", ca, ...identity },
      () => socket.write(bytes, "latin1"),
    );
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      received += chunk;
      if (statusOf() !== undefined && received.includes("\r\n\r\n")) finish();
    });
    socket.on("end", () => finish("no-response"));
    socket.on("close", () => finish("no-response"));
    // A server that answers early and closes may reset the connection under the rest of the request.
    socket.on("error", (error) => finish(`error:${codeOf(error)}`));
    const timer = setTimeout(() => finish("timeout"), EXCHANGE_TIMEOUT_MS);
  });
}
