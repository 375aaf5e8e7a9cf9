import { once } from "node:events";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";

/** A port that was free a moment ago: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

describe("upstream faults", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    const deadPort = await closedPort();
    h = await startGateway({
      extra: "limits: { upstreamTimeout: 300ms }",
      routes: `routes:
  - name: app
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.commonName: alice
  - name: down
    match: { host: down.test }
    upstream: "http://127.0.0.1:${deadPort}"
    policy:
      allow:
        - identity.commonName: alice
`,
    });
  });
  afterAll(() => h.close());

  it("answers 502 when the upstream refuses connections", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      host: "down.test",
    });
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({ error: "bad-gateway" });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line).toMatchObject({
      decision: "allow",
      status: 502,
      reasons: ["allowed-by-rule", "upstream-unreachable"],
    });
    expect(line.detail).toBe("ECONNREFUSED");
  });

  it("answers 504 when the upstream does not answer within limits.upstreamTimeout", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/slow/1",
    });
    expect(res.status).toBe(504);
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line).toMatchObject({ status: 504, reasons: ["allowed-by-rule", "upstream-timeout"] });
  });

  it("answers 502 when the upstream resets the connection before answering", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/reset/1",
    });
    expect(res.status).toBe(502);
  });

  it("closes the client connection when the upstream dies mid-response, instead of hanging", async () => {
    await expect(
      mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice, path: "/half/1" }),
    ).rejects.toThrow();
  });

  it("keeps serving after all of the above", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/still-alive",
    });
    expect(res.status).toBe(200);
  });
});
