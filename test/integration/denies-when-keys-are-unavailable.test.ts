import { describe, expect, it, onTestFinished } from "vitest";
import { expectDenied, sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { startGatedJwksServer } from "../support/gated-jwks-server.js";
import { startJwksServer, type JwksMode, type JwksServer } from "../support/jwks-server.js";
import { adminGet } from "../support/mtls-client.js";
import { createSigningKey, jwksOf, mintToken, type TestSigningKey } from "../support/token-keys.js";

/**
 * An identity issuer whose keys come from a JWKS URI on loopback. jose caches the keys
 * after a successful fetch and will not refetch for 30 s (its cooldown), so every test
 * starts its own key server and its own gateway: none waits for the cooldown, and none
 * depends on another.
 */

const ISSUER = "https://idp.verigate.test";
const AUDIENCE = "verigate";

async function startKeyedGateway(
  jwksUrl: string,
  keyFetchTimeout = "300ms",
): Promise<GatewayHarness> {
  const h = await startGateway({
    extra: `limits: { keyFetchTimeout: ${keyFetchTimeout} }
issuers:
  - name: corp-idp
    kind: identity
    issuer: ${ISSUER}
    audience: ${AUDIENCE}
    algorithms: [ES256]
    jwks: { uri: "${jwksUrl}" }
`,
    routes: `routes:
  - name: api
    match: { host: app.test, pathPrefix: /api/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.source: token
          identity.subject: alice
  - name: cert-only
    match: { host: app.test, pathPrefix: /cert/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: spiffe://corp.test/user/alice
  - name: status-page
    match: { host: status.test }
    upstream: "{{upstream}}"
    identity: optional
    policy:
      allow:
        - request.path: /status
`,
  });
  onTestFinished(() => h.close());
  return h;
}

async function startKeys(key: TestSigningKey): Promise<JwksServer> {
  const jwks = await startJwksServer(jwksOf(key));
  onTestFinished(() => jwks.close());
  return jwks;
}

/** A fresh token each time: verified tokens are cached, and a cached one needs no keys. */
function freshToken(key: TestSigningKey): Promise<string> {
  return mintToken(key, { sub: "alice", jti: crypto.randomUUID() }, { iss: ISSUER, aud: AUDIENCE });
}

function withToken(h: GatewayHarness, token: string, path = "/api/pay") {
  return { as: h.pki.clients.alice, path, headers: { authorization: `Bearer ${token}` } };
}

async function expectAllowed(h: GatewayHarness, token: string): Promise<void> {
  const before = h.upstream.seen.length;
  const { res, line } = await sendToGateway(h, withToken(h, token));
  expect(res.status).toBe(200);
  expect(line).toMatchObject({ decision: "allow", identitySource: "token", subject: "alice" });
  expect(h.upstream.seen.length).toBe(before + 1);
}

/** Requests that need no keys: a certificate-only route, an identity-optional route, the admin port. */
async function expectStillServing(h: GatewayHarness): Promise<void> {
  const cert = await sendToGateway(h, { as: h.pki.clients.alice, path: "/cert/x" });
  expect(cert.res.status).toBe(200);
  expect(cert.line).toMatchObject({ decision: "allow", identitySource: "certificate" });
  const open = await sendToGateway(h, { host: "status.test", path: "/status" });
  expect(open.res.status).toBe(200);
  expect(open.line).toMatchObject({ decision: "allow", identitySource: "none" });
  expect((await adminGet(h.adminPort, "/healthz")).status).toBe(200);
}

describe("an issuer whose keys come from a JWKS URI", () => {
  it("verifies tokens with keys fetched once, then cached", async () => {
    const key = await createSigningKey("ES256", "idp-1");
    const jwks = await startKeys(key);
    const h = await startKeyedGateway(jwks.url);
    for (let i = 0; i < 3; i++) await expectAllowed(h, await freshToken(key));
    expect(jwks.fetches()).toBe(1);
  });

  it("keeps verifying with cached keys while the key server is down", async () => {
    const key = await createSigningKey("ES256", "idp-1");
    const jwks = await startKeys(key);
    const h = await startKeyedGateway(jwks.url);
    await expectAllowed(h, await freshToken(key));
    jwks.setMode("down");
    await expectAllowed(h, await freshToken(key));
    expect(jwks.fetches()).toBe(1);
  });

  it("does not refetch for every unknown kid: made-up kids cannot hammer the key server", async () => {
    const key = await createSigningKey("ES256", "idp-1");
    const jwks = await startKeys(key);
    const h = await startKeyedGateway(jwks.url);
    await expectAllowed(h, await freshToken(key));
    for (let i = 0; i < 3; i++) {
      const stranger = await createSigningKey("ES256", `made-up-${i}`);
      await expectDenied(h, withToken(h, await freshToken(stranger)), 401, ["token-invalid"]);
    }
    expect(jwks.fetches()).toBe(1);
  });

  it.each<JwksMode>(["down", "junk", "slow"])(
    "denies with 503 while the key server is %s, keeps serving, and recovers",
    async (mode) => {
      const key = await createSigningKey("ES256", "idp-1");
      const jwks = await startKeys(key);
      jwks.setMode(mode);
      const h = await startKeyedGateway(jwks.url);

      for (let i = 0; i < 2; i++) {
        const fetchesBefore = jwks.fetches();
        const started = performance.now();
        const line = await expectDenied(h, withToken(h, await freshToken(key)), 503, [
          "key-source-unavailable",
        ]);
        const elapsed = performance.now() - started;
        expect(line.detail).toContain(jwks.url);
        // It denied because it tried the key source, not for another reason.
        expect(jwks.fetches()).toBe(fetchesBefore + 1);
        // A key server that never answers costs at most limits.keyFetchTimeout (300ms) a request.
        if (mode === "slow") expect(elapsed).toBeGreaterThanOrEqual(250);
        expect(elapsed).toBeLessThan(3000);
      }

      await expectStillServing(h);
      // A token present where none is needed must still verify: no keys, no entry.
      await expectDenied(h, withToken(h, await freshToken(key), "/cert/x"), 503, [
        "key-source-unavailable",
      ]);

      const metrics = (await adminGet(h.adminPort, "/metrics")).body;
      expect(metrics).toContain('verigate_jwks_fetch_errors_total{issuer="corp-idp"} 3');

      jwks.setMode("up");
      await expectAllowed(h, await freshToken(key));
    },
  );

  it("counts verifications answered by the token cache in /metrics", async () => {
    const key = await createSigningKey("ES256", "idp-1");
    const jwks = await startKeys(key);
    const h = await startKeyedGateway(jwks.url);
    const token = await freshToken(key);
    for (let i = 0; i < 3; i++) await expectAllowed(h, token);
    const metrics = (await adminGet(h.adminPort, "/metrics")).body;
    expect(metrics).toContain(
      'verigate_token_verifications_total{issuer="corp-idp",cache="miss"} 1',
    );
    expect(metrics).toContain(
      'verigate_token_verifications_total{issuer="corp-idp",cache="hit"} 2',
    );
    expect(metrics).not.toContain("verigate_jwks_fetch_errors_total{");
  });

  it("makes concurrent verifications that wait for keys share one fetch", async () => {
    const key = await createSigningKey("ES256", "idp-1");
    const jwks = await startGatedJwksServer(jwksOf(key));
    onTestFinished(() => jwks.close());
    const h = await startKeyedGateway(jwks.url, "5s");
    const tokens = await Promise.all(Array.from({ length: 6 }, () => freshToken(key)));
    const responses = Promise.all(tokens.map((token) => sendToGateway(h, withToken(h, token))));
    await jwks.waitForFetches(1);
    // Give every request time to reach the gateway and wait on the fetch in flight.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.audit.decisions()).toHaveLength(0);
    jwks.release();
    for (const { res, line } of await responses) {
      expect(res.status).toBe(200);
      expect(line).toMatchObject({ decision: "allow", subject: "alice" });
      // Each one was already waiting when the keys came: it joined the fetch in flight.
      expect(line.latencyMs).toBeGreaterThan(100);
    }
    expect(jwks.fetches()).toBe(1);
  });
});
