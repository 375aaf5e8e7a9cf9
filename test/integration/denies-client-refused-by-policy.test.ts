import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";

describe("a verified client the policy refuses", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({
      routes: `routes:
  - name: payroll
    match: { host: app.test, pathPrefix: /payroll/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: spiffe://corp.test/user/alice
          request.method: { in: [GET] }
  - name: closed
    match: { host: app.test, pathPrefix: /closed/ }
    upstream: "{{upstream}}"
    policy: {}
  - name: blocked
    match: { host: app.test, pathPrefix: /blocked/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.source: certificate
      deny:
        - identity.commonName: bob
`,
    });
  });
  afterAll(() => h.close());

  it("gets 403 as JSON with the request id and a category, never the policy's internals", async () => {
    const before = h.upstream.seen.length;
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.bob,
      path: "/payroll/run",
    });
    expect(res.status).toBe(403);
    expect(res.headers["content-type"]).toBe("application/json");
    const body = res.json();
    expect(body).toEqual({
      error: "forbidden",
      message: expect.any(String) as unknown,
      requestId: res.headers["x-request-id"],
    });
    expect(res.body).not.toContain("spiffe");
    expect(res.body).not.toContain("allow[");
    expect(h.upstream.seen.length).toBe(before);
  });

  it("gets a small HTML page when it is a browser", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.bob,
      path: "/payroll/run",
      headers: { accept: "text/html,application/xhtml+xml" },
    });
    expect(res.status).toBe(403);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toContain(String(res.headers["x-request-id"]));
    expect(res.body).toContain("forbidden");
  });

  it("is explained in the audit line: reason, failed criteria, route", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.bob,
      path: "/payroll/run",
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line).toMatchObject({
      decision: "deny",
      reasons: ["no-matching-rule"],
      route: "payroll",
      status: 403,
    });
    expect(line.detail).toEqual(["allow[0]: identity.spiffeId eq spiffe://corp.test/user/alice"]);
  });

  it("denies alice too when one criterion of her rule fails (all criteria must hold)", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      method: "DELETE",
      path: "/payroll/run",
    });
    expect(res.status).toBe(403);
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line.detail).toEqual(["allow[0]: request.method in [GET]"]);
  });

  it("lets a deny rule win over a matching allow rule", async () => {
    const alice = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/blocked/x",
    });
    expect(alice.status).toBe(200);
    const bob = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.bob,
      path: "/blocked/x",
    });
    expect(bob.status).toBe(403);
    const line = await h.audit.decisionFor(String(bob.headers["x-request-id"]));
    expect(line).toMatchObject({ reasons: ["denied-by-rule"], rule: "deny[0]" });
    expect(line.detail).toEqual(["deny[0]: identity.commonName eq bob"]);
  });

  it("denies everything on a route without allow rules", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/closed/x",
    });
    expect(res.status).toBe(403);
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line.reasons).toEqual(["no-allow-rules"]);
  });
});
