import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAllowed, expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import {
  createSigningKey,
  hs256WithPublicKey,
  jwksOf,
  mintToken,
  unsignedToken,
  type MintOptions,
  type TestSigningKey,
} from "../support/token-keys.js";

const ISS = "https://idp.corp.test";
const AUD = "verigate";
const ISSUED = { iss: ISS, aud: AUD } as const satisfies MintOptions;

function identityIssuer(name: string, bindToClientCert: boolean): string {
  return `issuers:
  - name: ${name}
    kind: identity
    issuer: ${ISS}
    audience: ${AUD}
    algorithms: [ES256]
    jwks: { file: idp-jwks.json }
${bindToClientCert ? "    bindToClientCert: true\n" : ""}`;
}

/** finance: only the finance group (which only a token can state); app: anyone with a corp.test certificate. */
const ROUTES = `routes:
  - name: finance
    match: { host: app.test, pathPrefix: /finance/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.groups: { has: finance }
  - name: app
    match: { host: app.test, pathPrefix: /app/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
`;

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe("OIDC identity tokens in Authorization: Bearer", () => {
  let h: GatewayHarness;
  let idpKey: TestSigningKey;
  let financeToken: string;
  const mint = (claims: JWTPayload, options: Partial<MintOptions> = {}): Promise<string> =>
    mintToken(idpKey, claims, { ...ISSUED, ...options });

  beforeAll(async () => {
    idpKey = await createSigningKey("ES256", "idp-1");
    h = await startGateway({
      extra: identityIssuer("corp-idp", false),
      files: { "idp-jwks.json": JSON.stringify(jwksOf(idpKey)) },
      routes: ROUTES,
    });
    financeToken = await mint({ sub: "alice-oidc", groups: ["finance", "staff"] });
  });
  afterAll(() => h.close());

  it("allows alice with a finance token, takes her identity from it, and keeps the token from the upstream", async () => {
    const { line, seen } = await expectAllowed(h, {
      as: h.pki.clients.alice,
      path: "/finance/ledger",
      headers: bearer(financeToken),
    });
    expect(line).toMatchObject({
      route: "finance",
      identitySource: "token",
      subject: "alice-oidc",
      // What the certificate said about itself stays beside the token's identity.
      spiffeId: "spiffe://corp.test/user/alice",
    });
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.rawHeaders.map((name) => name.toLowerCase())).not.toContain("authorization");
  });

  it("refuses a verified token whose groups do not include finance", async () => {
    const salesToken = await mint({ sub: "alice-oidc", groups: ["sales"] });
    const line = await expectDenied(
      h,
      { as: h.pki.clients.alice, path: "/finance/ledger", headers: bearer(salesToken) },
      403,
    );
    expect(line).toMatchObject({
      reasons: ["no-matching-rule"],
      identitySource: "token",
      subject: "alice-oidc",
    });
    expect(line.detail).toEqual(["allow[0]: identity.groups has finance"]);
  });

  it("reads groups from the groups claim only", async () => {
    const rolesToken = await mint({ sub: "alice-oidc", roles: ["finance"] });
    const line = await expectDenied(
      h,
      { as: h.pki.clients.alice, path: "/finance/ledger", headers: bearer(rolesToken) },
      403,
    );
    expect(line).toMatchObject({ reasons: ["no-matching-rule"], identitySource: "token" });
  });

  const badTokens: readonly [string, () => Promise<string>][] = [
    [
      "signed by a key the issuer never published (same kid)",
      async () =>
        mintToken(await createSigningKey("ES256", "idp-1"), { sub: "alice-oidc" }, ISSUED),
    ],
    ["for another audience", () => mint({ sub: "alice-oidc" }, { aud: "another-service" })],
    ["from another issuer", () => mint({ sub: "alice-oidc" }, { iss: "https://evil.test" })],
    ["unsigned (alg none)", () => Promise.resolve(unsignedToken({ sub: "alice-oidc" }, ISSUED))],
    [
      "MACed with the issuer's public key (HS256)",
      () => hs256WithPublicKey(idpKey, { sub: "alice-oidc" }, ISSUED),
    ],
    ["not a JWT at all", () => Promise.resolve("abc.def.ghi")],
    ["without a sub", () => mint({ groups: ["finance"] })],
  ];

  it.each(badTokens)(
    "answers 401 token-invalid to a bearer token %s, even where the certificate alone would do",
    async (_what, makeToken) => {
      const line = await expectDenied(
        h,
        { as: h.pki.clients.alice, path: "/app/home", headers: bearer(await makeToken()) },
        401,
      );
      expect(line.reasons).toEqual(["token-invalid"]);
      expect(line.detail).toEqual(expect.stringMatching(/^corp-idp: /));
    },
  );

  // A Bearer credential is addressed to verigate whatever its syntax: one that cannot
  // even be parsed must be refused like any bad token, never passed on unverified.
  it.each(["Bearer abc def", "Bearer x,Bearer y", "Bearer a%b", "Bearer"])(
    "answers 401 token-invalid to a malformed Bearer credential %j, and never forwards it",
    async (authorization) => {
      const line = await expectDenied(
        h,
        { as: h.pki.clients.alice, path: "/app/home", headers: { authorization } },
        401,
      );
      expect(line.reasons).toEqual(["token-invalid"]);
    },
  );

  it("forwards Authorization: Basic untouched: the app's own credential, not a token for verigate", async () => {
    const basic = `Basic ${Buffer.from("app-user:app-password").toString("base64")}`;
    const { line, seen } = await expectAllowed(h, {
      as: h.pki.clients.alice,
      path: "/app/home",
      headers: { authorization: basic },
    });
    expect(line).toMatchObject({ route: "app", identitySource: "certificate" });
    expect(seen.headers.authorization).toBe(basic);
  });

  it("does not verify a JWT under another scheme: Basic <finance token> grants no groups", async () => {
    const line = await expectDenied(
      h,
      {
        as: h.pki.clients.alice,
        path: "/finance/ledger",
        headers: { authorization: `Basic ${financeToken}` },
      },
      403,
    );
    expect(line).toMatchObject({ reasons: ["no-matching-rule"], identitySource: "certificate" });
  });

  it("allows a client without a certificate on an identity: required route, on its token alone", async () => {
    const { line, seen } = await expectAllowed(h, {
      path: "/finance/ledger",
      headers: bearer(financeToken),
    });
    expect(line).toMatchObject({ identitySource: "token", subject: "alice-oidc" });
    expect(line.certFingerprint).toBeUndefined();
    expect(line.spiffeId).toBeUndefined();
    expect(seen.headers.authorization).toBeUndefined();
  });

  it("still answers 401 to a client with neither certificate nor token", async () => {
    const line = await expectDenied(h, { path: "/finance/ledger" }, 401);
    expect(line).toMatchObject({
      reasons: ["client-certificate-required"],
      identitySource: "none",
    });
  });
});

describe("OIDC identity tokens from an issuer with bindToClientCert", () => {
  let h: GatewayHarness;
  let idpKey: TestSigningKey;

  beforeAll(async () => {
    idpKey = await createSigningKey("ES256", "idp-bound-1");
    h = await startGateway({
      extra: identityIssuer("bound-idp", true),
      files: { "idp-jwks.json": JSON.stringify(jwksOf(idpKey)) },
      routes: ROUTES,
    });
  });
  afterAll(() => h.close());

  const claims = { sub: "alice-oidc", groups: ["finance"] };

  it("accepts alice's bound token on alice's connection", async () => {
    const token = await mintToken(idpKey, claims, { ...ISSUED, boundTo: h.pki.clients.alice });
    const { line, seen } = await expectAllowed(h, {
      as: h.pki.clients.alice,
      path: "/finance/ledger",
      headers: bearer(token),
    });
    expect(line).toMatchObject({ identitySource: "token", subject: "alice-oidc" });
    expect(seen.headers.authorization).toBeUndefined();
  });

  it("refuses alice's bound token on bob's connection with 401 token-not-bound", async () => {
    const token = await mintToken(idpKey, claims, { ...ISSUED, boundTo: h.pki.clients.alice });
    const line = await expectDenied(
      h,
      { as: h.pki.clients.bob, path: "/finance/ledger", headers: bearer(token) },
      401,
    );
    expect(line.reasons).toEqual(["token-not-bound"]);
  });

  it("refuses alice's bound token on a connection without a certificate", async () => {
    const token = await mintToken(idpKey, claims, { ...ISSUED, boundTo: h.pki.clients.alice });
    const line = await expectDenied(h, { path: "/finance/ledger", headers: bearer(token) }, 401);
    expect(line.reasons).toEqual(["token-not-bound"]);
  });

  it("refuses a valid but unbound token, even on alice's connection", async () => {
    const token = await mintToken(idpKey, claims, ISSUED);
    const line = await expectDenied(
      h,
      { as: h.pki.clients.alice, path: "/finance/ledger", headers: bearer(token) },
      401,
    );
    expect(line.reasons).toEqual(["token-not-bound"]);
  });
});
