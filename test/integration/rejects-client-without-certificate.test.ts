import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a client without a certificate", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({
      routes: `${APP_ROUTES}
  - name: status-page
    match: { host: status.test }
    upstream: "{{upstream}}"
    identity: optional
    policy:
      allow:
        - request.method: GET
          request.path: /status
`,
    });
  });
  afterAll(() => h.close());

  it("gets 401 on a route that needs an identity", async () => {
    const res = await mtlsRequest({ port: h.port, pki: h.pki, path: "/x" });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: "authentication-required" });
    expect(
      (await expectDenied(h, { path: "/private" }, 401, ["client-certificate-required"]))
        .identitySource,
    ).toBe("none");
  });

  it("reaches a route whose policy only looks at the request, and only what that policy allows", async () => {
    const ok = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      host: "status.test",
      path: "/status",
    });
    expect(ok.status).toBe(200);
    const line = await h.audit.decisionFor(String(ok.headers["x-request-id"]));
    expect(line).toMatchObject({ decision: "allow", identitySource: "none", route: "status-page" });
    const other = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      host: "status.test",
      path: "/status/secret",
    });
    expect(other.status).toBe(403);
  });
});
