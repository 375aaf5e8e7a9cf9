import { readdir } from "node:fs/promises";
import { createConnection } from "node:net";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectFor } from "../support/connect-for-host.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { adminGet, mtlsRequest } from "../support/mtls-client.js";
import { DEFAULT_HOST, rawRequest } from "../support/raw-request.js";
import { openTls, readUntilClosed, statusesIn } from "../support/tls-socket.js";

/**
 * Resource exhaustion: slowloris, oversized heads and bodies, floods of requests and
 * connections. Each limit answers with its status (or a closed connection) and an
 * audit line, the upstream sees nothing it should not, and verigate keeps serving.
 */

const ROUTES = `routes:
  - name: app
    match: { host: ${DEFAULT_HOST} }
    upstream: "{{upstream}}"
    maxBodyBytes: 1024
    policy:
      allow:
        - identity.commonName: alice
`;

const LIMITS = `limits:
  handshakeTimeout: 500ms
  headersTimeout: 500ms
  requestTimeout: 1s
  upstreamTimeout: 2s
  maxInFlight: 3
  maxRequestsPerConnection: 3
`;

/** alice, to the host of the test route. */
function client(h: GatewayHarness) {
  return { port: h.port, pki: h.pki, as: h.pki.clients.alice, host: DEFAULT_HOST };
}

async function openDescriptors(): Promise<number> {
  return (await readdir("/proc/self/fd")).length;
}

describe("resource exhaustion", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ extra: LIMITS, routes: ROUTES });
  });
  afterAll(() => h.close());

  it("slowloris: a request head that never ends gets 408 and the connection closed", async () => {
    const before = h.upstream.seen.length;
    const socket = await openTls(h, h.pki.clients.alice);
    const reply = readUntilClosed(socket, 5000);
    socket.write(`GET /x HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\nX-Dribble: a`);
    const received = await reply;
    expect(statusesIn(received)).toEqual([408]);
    expect(received).not.toContain("<<still open>>");
    const line = h.audit.decisions().find((l) => l.reasons?.toString() === "request-timeout");
    expect(line).toMatchObject({ decision: "deny", status: 408 });
    expect(h.upstream.seen.length).toBe(before);
  });

  it("a request body that trickles in slower than limits.requestTimeout gets 408", async () => {
    const socket = await openTls(h, h.pki.clients.alice);
    const reply = readUntilClosed(socket, 5000);
    socket.write(
      `POST /trickle HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\nContent-Length: 100\r\n\r\n0123456789`,
    );
    expect(statusesIn(await reply)).toEqual([408]);
    // The upstream never got the body whole.
    expect(h.upstream.seen.some((seen) => seen.url === "/trickle")).toBe(false);
  });

  it("a TLS handshake that never starts is cut off after limits.handshakeTimeout", async () => {
    const started = performance.now();
    const socket = createConnection({ host: "127.0.0.1", port: h.port });
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.on("close", () => resolve()));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3000);
    await expect
      .poll(() => h.audit.lines.some((line) => line.msg === "TLS handshake failed"))
      .toBe(true);
  });

  it("an oversized request head gets 431 (header size)", async () => {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, { target: "/x", headers: [["X-Big", "a".repeat(20_000)]] });
    expect(res.status).toBe(431);
    const line = await h.audit.decisionFor(res.requestId);
    expect(line).toMatchObject({ decision: "deny", reasons: ["headers-too-large"] });
    expect(h.upstream.seen.length).toBe(before);
  });

  it("a declared body over the route's maxBodyBytes gets 413 before anything is forwarded", async () => {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, {
      target: "/upload",
      method: "POST",
      headers: [["Content-Length", "2048"]],
      body: "x".repeat(2048),
    });
    expect(res.status).toBe(413);
    expect(res.headers["connection"]).toBe("close");
    const line = await h.audit.decisionFor(res.requestId);
    expect(line).toMatchObject({ decision: "deny", reasons: ["body-too-large"], route: "app" });
    expect(h.upstream.seen.length).toBe(before);
  });

  it("a chunked body that grows past maxBodyBytes is cut off upstream and answered 413", async () => {
    const socket = await openTls(h, h.pki.clients.alice);
    const reply = readUntilClosed(socket, 5000);
    socket.write(
      `POST /chunked HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = "y".repeat(600);
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
    const received = await reply;
    expect(statusesIn(received)).toEqual([413]);
    const requestId = /x-request-id: (\S+)/.exec(received)?.[1] ?? "";
    const line = await h.audit.decisionFor(requestId);
    expect(line).toMatchObject({ status: 413, reasons: ["allowed-by-rule", "body-too-large"] });
    // The upstream never received the request whole: it saw no complete /chunked.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.upstream.seen.some((seen) => seen.url === "/chunked")).toBe(false);
  });

  it("a flood of hanging requests past limits.maxInFlight is shed with 503; admin stays up", async () => {
    const hanging = Array.from({ length: 3 }, (_, i) =>
      mtlsRequest({ ...client(h), path: `/slow/${i}` }),
    );
    await expect
      .poll(() => h.upstream.seen.filter((s) => s.url.startsWith("/slow/")).length)
      .toBe(3);
    const shed = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/y",
    });
    expect(shed.status).toBe(503);
    expect(shed.json()).toMatchObject({ error: "unavailable" });
    const line = await h.audit.decisionFor(String(shed.headers["x-request-id"]));
    expect(line).toMatchObject({ decision: "deny", reasons: ["overloaded"], status: 503 });
    expect(h.upstream.seen.some((seen) => seen.url === "/y")).toBe(false);
    expect((await adminGet(h.adminPort, "/healthz")).status).toBe(200);
    // Once the hanging ones end (504 after upstreamTimeout), requests are served again.
    expect((await Promise.all(hanging)).map((res) => res.status)).toEqual([504, 504, 504]);
    const after = await mtlsRequest(client(h));
    expect(after.status).toBe(200);
  });

  it("a connection carries at most limits.maxRequestsPerConnection requests", async () => {
    const socket = await openTls(h, h.pki.clients.alice);
    const reply = readUntilClosed(socket, 5000);
    const request = `GET /keep HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\n\r\n`;
    socket.write(request.repeat(5));
    const received = await reply;
    expect(statusesIn(received)).toEqual([200, 200, 200]);
    expect(received.match(/connection: close/gi)?.length).toBe(1);
  });

  it("abandoned requests and responses leave no open descriptors behind", async () => {
    const baseline = await openDescriptors();
    for (let i = 0; i < 20; i++) {
      // Mid-request: half a body, then gone.
      const a = await openTls(h, h.pki.clients.alice);
      a.write(`POST /gone HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\nContent-Length: 100\r\n\r\nabc`);
      // Mid-response: the upstream is still answering when the client leaves.
      const b = await openTls(h, h.pki.clients.alice);
      b.write(`GET /delay/${i} HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      a.destroy();
      b.destroy();
    }
    await expect
      .poll(openDescriptors, { timeout: 8000, interval: 200 })
      .toBeLessThanOrEqual(baseline + 2);
    const res = await mtlsRequest(client(h));
    expect(res.status).toBe(200);
    // A client that left is not a malformed request, and a response never sent is no 200.
    const lines = h.audit.decisions();
    expect(lines.filter((l) => /ECONNRESET|EPIPE|EOF_STATE/.test(String(l.detail)))).toEqual([]);
    const abandoned = lines.filter((l) => String(l.path).startsWith("/delay/"));
    expect(abandoned.length).toBeGreaterThan(0);
    expect(abandoned.every((l) => l.status === 499)).toBe(true);
  });
});

describe("a flood of connections past limits.maxConnections", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ extra: "limits: { maxConnections: 2 }", routes: ROUTES });
  });
  afterAll(() => h.close());

  it("is refused at the socket and logged, while the connections within the limit are served", async () => {
    const held = [await openTls(h, h.pki.clients.alice), await openTls(h, h.pki.clients.alice)];
    const extra = connect({
      host: "127.0.0.1",
      port: h.port,
      ca: h.pki.ca.certPem,
      cert: h.pki.clients.alice.chainPem,
      key: h.pki.clients.alice.keyPem,
      ...connectFor(DEFAULT_HOST),
    });
    // events.once would reject on the client's "socket disconnected" error: wait for close.
    await new Promise<void>((resolve) => {
      extra.on("error", () => undefined);
      extra.on("close", () => resolve());
    });
    expect(extra.authorized).toBe(false);
    await expect
      .poll(() =>
        h.audit.lines.some((l) => l.msg === "connection refused: limits.maxConnections reached"),
      )
      .toBe(true);
    const reply = readUntilClosed(held[0] as never, 5000);
    held[0]?.write(`GET /held HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\nConnection: close\r\n\r\n`);
    expect(statusesIn(await reply)).toEqual([200]);
    held[1]?.destroy();
  });
});
