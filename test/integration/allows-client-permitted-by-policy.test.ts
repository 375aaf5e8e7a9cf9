import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a client the policy allows", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("reaches the upstream with verigate's forwarding headers", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/hello?x=1",
    });
    expect(res.status).toBe(200);
    const requestId = res.headers["x-request-id"];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const seen = h.upstream.seen.at(-1);
    expect(seen?.url).toBe("/hello?x=1");
    expect(seen?.headers["x-request-id"]).toBe(requestId);
    expect(seen?.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen?.headers["x-forwarded-proto"]).toBe("https");
    expect(seen?.headers["x-forwarded-host"]).toBe("app.test");
    expect(seen?.headers.host).toBe(`127.0.0.1:${h.upstream.port}`);
  });

  it("writes one audit line with who, what, which rule and the config revision", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/audited",
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line).toMatchObject({
      decision: "allow",
      reasons: ["allowed-by-rule"],
      rule: "allow[0]",
      route: "app",
      status: 200,
      method: "GET",
      host: "app.test",
      path: "/audited",
      sourceIp: "127.0.0.1",
      spiffeId: "spiffe://corp.test/user/alice",
      identitySource: "certificate",
      revision: h.gateway.snapshot.revision,
    });
    expect(line.subject).toContain("CN=alice");
    expect(line.certFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof line.latencyMs).toBe("number");
    expect(h.audit.decisions().filter((l) => l.requestId === line.requestId)).toHaveLength(1);
  });

  it("accepts a client whose chain runs through an intermediate CA it presents", async () => {
    const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.viaIntermediate });
    expect(res.status).toBe(200);
  });

  it("forwards a request body intact", async () => {
    const body = JSON.stringify({ pay: 42 });
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      method: "POST",
      path: "/submit",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(200);
    expect(h.upstream.seen.at(-1)?.body).toBe(body);
  });
});
