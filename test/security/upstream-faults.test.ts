import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { DEFAULT_HOST } from "../support/raw-request.js";

/**
 * Upstream faults: an upstream that refuses, resets, hangs, answers garbage, or
 * accepts a connection and never speaks TLS. Each ends in a defined status within
 * its limit, an audit line that says why, one attempt only (a request is never sent
 * twice behind the client's back), and a gateway that keeps serving.
 */

/** A TCP server that accepts connections and never says a word (a TLS upstream that hangs in the handshake). */
async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

describe("upstream faults", () => {
  let h: GatewayHarness;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  beforeAll(async () => {
    silent = await startSilentServer();
    h = await startGateway({
      extra: "limits: { upstreamTimeout: 1s, upstreamConnectTimeout: 300ms }",
      routes: `routes:
  - name: app
    match: { host: ${DEFAULT_HOST} }
    upstream: "{{upstream}}"
    policy: { allow: [ { identity.commonName: alice } ] }
  - name: tls-hang
    match: { host: hang.verigate.test }
    upstream: "https://127.0.0.1:${silent.port}"
    policy: { allow: [ { identity.commonName: alice } ] }
`,
    });
  });
  afterAll(async () => {
    await h.close();
    await silent.close();
  });

  async function send(path: string, host = DEFAULT_HOST, method = "GET") {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      host,
      path,
      method,
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    return { res, line };
  }

  it("an upstream answering a malformed response head gets the client 502, not the garbage", async () => {
    const { res, line } = await send("/badheaders/x");
    expect(res.status).toBe(502);
    expect(res.body).not.toContain("this line is no header");
    expect(line).toMatchObject({
      status: 502,
      reasons: ["allowed-by-rule", "upstream-unreachable"],
    });
    expect(h.upstream.seen.filter((seen) => seen.url === "/badheaders/x")).toHaveLength(1);
  });

  it("an upstream that accepts TCP and never completes TLS is given up after upstreamConnectTimeout (504)", async () => {
    const started = performance.now();
    const { res, line } = await send("/x", "hang.verigate.test");
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    expect(line).toMatchObject({ status: 504, reasons: ["allowed-by-rule", "upstream-timeout"] });
    expect(line.detail).toBe("no connection within 300ms");
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1000); // well before upstreamTimeout (1s)
  });

  it("an upstream that resets a POST is not sent it again (no silent retry of a non-idempotent request)", async () => {
    const { res, line } = await send("/reset/pay", DEFAULT_HOST, "POST");
    expect(res.status).toBe(502);
    expect(line).toMatchObject({ reasons: ["allowed-by-rule", "upstream-unreachable"] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.upstream.seen.filter((seen) => seen.url === "/reset/pay")).toHaveLength(1);
  });

  it("an upstream dying mid-response closes the client connection instead of leaving it waiting", async () => {
    await expect(
      mtlsRequest({
        port: h.port,
        pki: h.pki,
        as: h.pki.clients.alice,
        host: DEFAULT_HOST,
        path: "/half/x",
      }),
    ).rejects.toThrow();
    await expect.poll(() => h.audit.decisions().find((l) => l.path === "/half/x")).toBeDefined();
    const line = h.audit.decisions().find((l) => l.path === "/half/x");
    expect(line).toMatchObject({ decision: "allow", status: 200 });
    expect(line?.detail).toBe("connection closed before the response completed");
  });

  it("after every fault the gateway still serves", async () => {
    const { res } = await send("/fine");
    expect(res.status).toBe(200);
  });
});
