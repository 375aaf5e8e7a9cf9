import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectDenied, sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { createSigningKey, jwksOf, type TestSigningKey } from "../support/token-keys.js";

describe("watching a policy change before it takes effect", () => {
  let h: GatewayHarness;
  let key: TestSigningKey;
  beforeAll(async () => {
    key = await createSigningKey("ES256", "sso-1");
    h = await startGateway({
      files: { "sso-jwks.json": JSON.stringify(jwksOf(key)) },
      extra: `issuers:
  - name: sso
    kind: identity
    issuer: https://sso.test
    audience: verigate
    jwks: { file: sso-jwks.json }
    algorithms: [ES256]
`,
      routes: `routes:
  - name: shadowed
    match: { host: shadow.test }
    upstream: "{{upstream}}"
    mode: audit
    policy:
      allow:
        - identity.commonName: alice
  - name: with-candidate
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.commonName: { in: [alice, bob] }
    candidate:
      allow:
        - identity.commonName: alice
`,
    });
  });
  afterAll(() => h.close());

  it("audit mode forwards what the policy would deny, and logs wouldDeny with the reasons", async () => {
    const { res, line } = await sendToGateway(h, {
      as: h.pki.clients.bob,
      host: "shadow.test",
      path: "/x",
    });
    expect(res.status).toBe(200);
    expect(h.upstream.seen.at(-1)?.headers["x-request-id"]).toBe(res.headers["x-request-id"]);
    expect(line).toMatchObject({
      decision: "allow",
      wouldDeny: true,
      reasons: ["no-matching-rule"],
      status: 200,
    });
    expect(line.detail).toEqual(["allow[0]: identity.commonName eq alice"]);
  });

  it("audit mode logs an allowed request as a plain allow", async () => {
    const { res, line } = await sendToGateway(h, { as: h.pki.clients.alice, host: "shadow.test" });
    expect(res.status).toBe(200);
    expect(line).toMatchObject({ decision: "allow", reasons: ["allowed-by-rule"] });
    expect(line.wouldDeny).toBeUndefined();
  });

  it("audit mode forwards a request without an identity too, as a would-be 401", async () => {
    const { res, line } = await sendToGateway(h, { host: "shadow.test" });
    expect(res.status).toBe(200);
    expect(line).toMatchObject({
      wouldDeny: true,
      reasons: ["client-certificate-required"],
      identitySource: "none",
    });
  });

  it("audit mode never forwards an invalid credential", async () => {
    await expectDenied(
      h,
      {
        as: h.pki.clients.alice,
        host: "shadow.test",
        headers: { authorization: "Bearer not.a.token" },
      },
      401,
      ["token-invalid"],
    );
  });

  it("a candidate policy is decided beside the live one and logged, never enforced", async () => {
    const bob = await sendToGateway(h, { as: h.pki.clients.bob, path: "/y" });
    expect(bob.res.status).toBe(200);
    expect(bob.line).toMatchObject({
      decision: "allow",
      reasons: ["allowed-by-rule"],
      candidate: { decision: "deny", reasons: ["no-matching-rule"] },
    });
    const alice = await sendToGateway(h, { as: h.pki.clients.alice, path: "/y" });
    expect(alice.line).toMatchObject({
      candidate: { decision: "allow", reasons: ["allowed-by-rule"], rule: "allow[0]" },
    });
  });
});
