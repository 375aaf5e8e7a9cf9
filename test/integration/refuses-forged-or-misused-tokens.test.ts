import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectDenied, sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { startJwksServer, type JwksServer } from "../support/jwks-server.js";
import {
  createSigningKey,
  hs256WithPublicKey,
  jwksOf,
  mintToken,
  unsignedToken,
  type MintOptions,
  type TestSigningKey,
} from "../support/token-keys.js";

/**
 * One identity issuer whose keys are a local JWKS file holding an ES256 key (the only
 * pinned algorithm) and an RS256 key of the same issuer (published, but not pinned).
 * Every token below is refused with 401 and its own reason, before any policy runs.
 */

const ISSUER = "https://idp.verigate.test";
const AUDIENCE = "verigate";
const SKEW_S = 30;
const MAX_AGE_S = 600;

const nowS = (): number => Math.floor(Date.now() / 1000);

describe("forged or misused identity tokens", () => {
  let h: GatewayHarness;
  let es256: TestSigningKey;
  let rs256: TestSigningKey;
  let attacker: TestSigningKey;
  let jkuServer: JwksServer;

  beforeAll(async () => {
    es256 = await createSigningKey("ES256", "idp-es256");
    rs256 = await createSigningKey("RS256", "idp-rs256");
    attacker = await createSigningKey("ES256", "attacker");
    // What a verifier that followed `jku` would find: the attacker's key.
    jkuServer = await startJwksServer(jwksOf(attacker));
    h = await startGateway({
      files: { "idp-jwks.json": JSON.stringify(jwksOf(es256, rs256)) },
      extra: `issuers:
  - name: corp-idp
    kind: identity
    issuer: ${ISSUER}
    audience: ${AUDIENCE}
    algorithms: [ES256]
    jwks: { file: idp-jwks.json }
    clockSkew: ${SKEW_S}s
    maxAge: ${MAX_AGE_S}s
`,
      routes: `routes:
  - name: cert-only
    match: { host: app.test, pathPrefix: /cert/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: spiffe://corp.test/user/alice
  - name: api
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.source: token
          identity.issuer: ${ISSUER}
          identity.subject: alice
`,
    });
  });
  afterAll(async () => {
    await h.close();
    await jkuServer.close();
  });

  const good: MintOptions = { iss: ISSUER, aud: AUDIENCE };
  const claims = { sub: "alice" };

  function bearer(token: string) {
    return {
      as: h.pki.clients.alice,
      path: "/api/x",
      headers: { authorization: `Bearer ${token}` },
    };
  }

  it("lets a good token through and keeps it from the upstream", async () => {
    const before = h.upstream.seen.length;
    const { res, line } = await sendToGateway(h, bearer(await mintToken(es256, claims, good)));
    expect(res.status).toBe(200);
    expect(line).toMatchObject({
      decision: "allow",
      reasons: ["allowed-by-rule"],
      identitySource: "token",
      subject: "alice",
    });
    expect(h.upstream.seen.length).toBe(before + 1);
    expect(h.upstream.seen.at(-1)?.headers).not.toHaveProperty("authorization");
  });

  // Times are computed when each test runs, not when the table is built.
  it.each([
    ["issued slightly ahead of the clock, within the skew", () => ({ iat: nowS() + SKEW_S - 10 })],
    [
      "expired slightly, within the skew",
      () => ({ iat: nowS() - 120, lifetime: 120 - (SKEW_S - 10) }),
    ],
    [
      "as old as maxAge, within the skew",
      () => ({ iat: nowS() - MAX_AGE_S - (SKEW_S - 10), lifetime: 3600 }),
    ],
  ])("accepts a token %s", async (_title, times) => {
    const token = await mintToken(es256, claims, { ...good, ...times() });
    const { res, line } = await sendToGateway(h, bearer(token));
    expect(res.status).toBe(200);
    expect(line).toMatchObject({ decision: "allow", identitySource: "token" });
  });

  /** Each case: how the token is made, and the one reason it must be refused for. */
  const REFUSED: ReadonlyArray<readonly [string, () => Promise<string> | string, string]> = [
    [
      "expired beyond the skew",
      () => mintToken(es256, claims, { ...good, iat: nowS() - 300, lifetime: 120 }),
      "token-expired",
    ],
    [
      "issued in the future beyond the skew",
      () => mintToken(es256, claims, { ...good, iat: nowS() + 300 }),
      "token-issued-in-future",
    ],
    [
      "older than maxAge",
      () => mintToken(es256, claims, { ...good, iat: nowS() - 2 * MAX_AGE_S, lifetime: 3600 }),
      "token-too-old",
    ],
    [
      "for another issuer",
      () => mintToken(es256, claims, { ...good, iss: "https://evil.test" }),
      "token-invalid",
    ],
    [
      "for another audience",
      () => mintToken(es256, claims, { ...good, aud: "another-service" }),
      "token-invalid",
    ],
    ["without an audience", () => mintToken(es256, claims, { iss: ISSUER }), "token-invalid"],
    [
      "without exp",
      () =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: "ES256", kid: es256.kid })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .sign(es256.privateKey),
      "token-invalid",
    ],
    [
      "without iat",
      () =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: "ES256", kid: es256.kid })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime("5m")
          .sign(es256.privateKey),
      "token-invalid",
    ],
    ["unsigned (alg: none)", () => unsignedToken(claims, good), "token-invalid"],
    [
      "MACed with HS256 using the issuer's public key",
      () => hs256WithPublicKey(es256, claims, good),
      "token-invalid",
    ],
    [
      "signed by a key whose kid the issuer does not publish",
      async () => mintToken(await createSigningKey("ES256", "rotated-out"), claims, good),
      "token-invalid",
    ],
    [
      "signed by the attacker, embedding the attacker's key as jwk under the issuer's kid",
      () =>
        mintToken(attacker, claims, {
          ...good,
          header: { kid: es256.kid, jwk: attacker.publicJwk },
        }),
      "token-invalid",
    ],
    [
      "signed by the attacker, embedding the attacker's key as jwk without a kid",
      () =>
        mintToken(attacker, claims, {
          ...good,
          header: { kid: undefined, jwk: attacker.publicJwk },
        }),
      "token-invalid",
    ],
    [
      "signed with the issuer's RS256 key when only ES256 is pinned",
      () => mintToken(rs256, claims, good),
      "token-invalid",
    ],
    [
      "signed by the issuer's key but altered (payload swapped)",
      async () => {
        const [header, , signature] = (await mintToken(es256, claims, good)).split(".");
        const forged = Buffer.from(
          JSON.stringify({
            sub: "admin",
            iss: ISSUER,
            aud: AUDIENCE,
            iat: nowS(),
            exp: nowS() + 300,
          }),
        ).toString("base64url");
        return `${header}.${forged}.${signature}`;
      },
      "token-invalid",
    ],
    ["a garbage string", () => "garbage", "token-invalid"],
    ["three garbage segments", () => "a.b.c", "token-invalid"],
    ["a JWS without a signature segment", () => "eyJhbGciOiJFUzI1NiJ9.e30", "token-invalid"],
  ];

  it.each(REFUSED)("refuses a token %s (401)", async (_title, make, reason) => {
    await expectDenied(h, bearer(await make()), 401, [reason]);
  });

  it("refuses a token naming a jku, and never fetches it (401)", async () => {
    const token = await mintToken(attacker, claims, {
      ...good,
      header: { jku: jkuServer.url },
    });
    await expectDenied(h, bearer(token), 401, ["token-invalid"]);
    const underIssuerKid = await mintToken(attacker, claims, {
      ...good,
      header: { kid: es256.kid, jku: jkuServer.url, x5u: jkuServer.url },
    });
    await expectDenied(h, bearer(underIssuerKid), 401, ["token-invalid"]);
    expect(jkuServer.fetches()).toBe(0);
  });

  it.each([
    ["with spaces and symbols", () => Promise.resolve("Bearer not a jwt!")],
    ["holding two tokens", async () => `Bearer ${await mintToken(es256, claims, good)} x`],
    [
      "holding two comma-separated tokens",
      async () => {
        const token = await mintToken(es256, claims, good);
        return `Bearer ${token},${token}`;
      },
    ],
    ["with nothing after the scheme", () => Promise.resolve("Bearer")],
  ])(
    "refuses a malformed Bearer credential %s, never ignoring it or passing it upstream (401)",
    async (_title, make) => {
      // On the certificate-only route an ignored credential would be allowed AND forwarded unverified.
      await expectDenied(
        h,
        { as: h.pki.clients.alice, path: "/cert/x", headers: { authorization: await make() } },
        401,
        ["token-invalid"],
      );
    },
  );

  it("refuses a bad token even on a route the certificate alone satisfies", async () => {
    const { res } = await sendToGateway(h, { as: h.pki.clients.alice, path: "/cert/x" });
    expect(res.status).toBe(200);
    // A present token must verify: it is never silently ignored in favour of the certificate.
    await expectDenied(h, { ...bearer(unsignedToken(claims, good)), path: "/cert/x" }, 401, [
      "token-invalid",
    ]);
  });
});
