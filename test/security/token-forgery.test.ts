import { createPublicKey, webcrypto } from "node:crypto";
import { exportJWK, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { x509 } from "../../src/crypto/x509.js";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { SeenRequest } from "../support/echo-upstream.js";
import { newNonce } from "../support/evidence/evidence-delivery.js";
import { expectDenied, type GatewayRequest } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { startJwksServer, type JwksServer } from "../support/jwks-server.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { DEFAULT_HOST, rawRequest } from "../support/raw-request.js";
import {
  createSigningKey,
  hs256WithPublicKey,
  jwksOf,
  mintToken,
  thumbprintOf,
  unsignedToken,
  type MintOptions,
  type TestSigningKey,
} from "../support/token-keys.js";
import { verifiedAssertionOf } from "../support/upstream-assertion.js";

/**
 * Token forgery and misuse: a client presenting a signed token verigate must not
 * believe (unsigned, signed with the wrong kind of key, with keys it names itself,
 * for someone else, stale, replayed, smuggled in a second header or another
 * issuer's header). Every case checks the client's status, the audit line's reason,
 * and the upstream: nothing for a refused request; for an allowed one, verigate's
 * verified assertion only, never the client's token or claims.
 *
 * One IdP key signs identity tokens (Authorization: Bearer, bound to the client
 * certificate) and posture tokens (x-posture-token): only `iss` tells them apart.
 * An attestation verifier signs TEE tokens (x-attestation-token) that must echo a
 * verigate nonce.
 */

const HOST = DEFAULT_HOST;
const IDP = "https://idp.corp.test";
const POSTURE = "https://mdm.corp.test";
const VERIFIER = "https://verifier.corp.test";
const AUD = "verigate";
const SKEW_S = 30;
const MEASUREMENT = "5a".repeat(48);

const CONFIG = `limits:
  # Room for a token past verigate's own 16 KiB token limit, so that limit is what refuses it.
  maxHeaderBytes: 65536
issuers:
  - name: corp-idp
    kind: identity
    issuer: ${IDP}
    audience: ${AUD}
    algorithms: [ES256]
    jwks: { file: idp-jwks.json }
    clockSkew: ${SKEW_S}s
    bindToClientCert: true
  - name: corp-mdm
    kind: posture
    issuer: ${POSTURE}
    audience: ${AUD}
    algorithms: [ES256]
    jwks: { file: idp-jwks.json }
    clockSkew: ${SKEW_S}s
  - name: enclave-verifier
    kind: attestation
    profile: generic
    claims: { platform: tee, measurement: m, debug: d, nonce: nonce }
    issuer: ${VERIFIER}
    audience: ${AUD}
    algorithms: [ES256]
    jwks: { file: verifier-jwks.json }
    requireNonce: true
`;

const ROUTES = `routes:
  - name: staff
    match: { host: ${HOST}, pathPrefix: /staff/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.source: token
          identity.issuer: ${IDP}
          identity.groups: { has: staff }
  - name: devices
    match: { host: ${HOST}, pathPrefix: /devices/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - device.managed: true
          device.issuer: corp-mdm
  - name: enclave
    match: { host: ${HOST}, pathPrefix: /enclave/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.measurement: ${MEASUREMENT}
          tee.debug: false
          tee.boundToClientCert: false
  - name: app
    match: { host: ${HOST} }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
`;

const nowS = (): number => Math.floor(Date.now() / 1000);
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Token headers no refused request may carry to the upstream, nor any allowed one. */
const TOKEN_HEADERS = ["authorization", "x-posture-token", "x-attestation-token"];

describe("forged and misused signed tokens", () => {
  let h: GatewayHarness;
  let alice: IssuedCertificate;
  let bob: IssuedCertificate;
  let idp: TestSigningKey;
  let verifier: TestSigningKey;
  let attacker: TestSigningKey;
  /** The attacker's self-signed certificate for the attacker's key, for `x5c`. */
  let attackerCertificate: string;
  /** Where a `jku` or `x5u` names the attacker's keys; a verifier that followed it would fetch. */
  let attackerKeys: JwksServer;

  beforeAll(async () => {
    idp = await createSigningKey("ES256", "idp-2026");
    verifier = await createSigningKey("ES256", "verifier-1");
    const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    attacker = {
      alg: "ES256",
      kid: "attacker",
      privateKey: pair.privateKey,
      publicJwk: { ...(await exportJWK(pair.publicKey)), kid: "attacker", alg: "ES256" },
    };
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "01",
      name: "CN=idp.corp.test",
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys: pair,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    attackerCertificate = Buffer.from(cert.rawData).toString("base64");
    attackerKeys = await startJwksServer(jwksOf(attacker));
    h = await startGateway({
      extra: CONFIG,
      files: {
        "idp-jwks.json": JSON.stringify(jwksOf(idp)),
        "verifier-jwks.json": JSON.stringify(jwksOf(verifier)),
      },
      routes: ROUTES,
    });
    ({ alice, bob } = h.pki.clients);
  });
  afterAll(async () => {
    await h.close();
    await attackerKeys.close();
  });

  const staffClaims: JWTPayload = { sub: "alice-sso", groups: ["staff"] };

  /** The identity token alice's IdP would give her: bound to her certificate. */
  function identityOptions(overrides: Partial<MintOptions> = {}): MintOptions {
    return { iss: IDP, aud: AUD, boundTo: alice, ...overrides };
  }

  /** A call to the staff route with `token` as the Bearer credential, as alice (or `null`: no certificate). */
  function bearer(token: string, as: IssuedCertificate | null = alice): GatewayRequest {
    return {
      host: HOST,
      path: "/staff/payroll",
      headers: { authorization: `Bearer ${token}` },
      ...(as === null ? {} : { as }),
    };
  }

  /** Sends a request that must be allowed; returns what the upstream got and verigate's verified assertion. */
  async function expectForwarded(
    request: GatewayRequest,
    route: string,
  ): Promise<{ seen: SeenRequest; claims: Awaited<ReturnType<typeof verifiedAssertionOf>> }> {
    const res = await mtlsRequest({ port: h.port, pki: h.pki, ...request });
    expect(res.status).toBe(200);
    const requestId = String(res.headers["x-request-id"]);
    expect(await h.audit.decisionFor(requestId)).toMatchObject({
      decision: "allow",
      route,
      reasons: ["allowed-by-rule"],
    });
    const seen = h.upstream.seen.find((s) => s.headers["x-request-id"] === requestId);
    expect(seen, "the upstream received the allowed request").toBeDefined();
    for (const name of TOKEN_HEADERS) expect(seen?.headers[name], name).toBeUndefined();
    return {
      seen: seen as SeenRequest,
      claims: await verifiedAssertionOf(h, seen as SeenRequest, route),
    };
  }

  /** Each token refused with 401 and `reason`, before any policy, and never forwarded. */
  async function expectEachRefused(
    tokens: readonly (readonly [string, string])[],
    reason: string,
  ): Promise<void> {
    for (const [what, token] of tokens) {
      const line = await expectDenied(h, bearer(token), 401, [reason]);
      expect(line.route, what).toBe("staff");
      expect(String(line.detail), what).toMatch(/^corp-idp: /);
      // The certificate identity stays; the token's never became one.
      expect(line).toMatchObject({
        identitySource: "certificate",
        subject: "O=Corp Test, CN=alice",
      });
    }
  }

  it("control: alice's genuine token is believed, and the upstream hears verigate's assertion, not the token", async () => {
    const token = await mintToken(idp, staffClaims, identityOptions());
    const { claims } = await expectForwarded(bearer(token), "staff");
    expect(claims.identity).toMatchObject({
      source: "token",
      subject: "alice-sso",
      issuer: IDP,
      groups: ["staff"],
      spiffeId: "spiffe://corp.test/user/alice",
    });
  });

  it("alg none, in any spelling, with or without a signature segment (CVE-2015-9235 class)", async () => {
    // Everything a genuine token of alice's says, bound to her certificate: only the signature is missing.
    const cnf = { "x5t#S256": thumbprintOf(alice) };
    const payload = { ...staffClaims, cnf, iss: IDP, aud: AUD, iat: nowS(), exp: nowS() + 300 };
    const genuine = await mintToken(idp, staffClaims, identityOptions());
    const signature = genuine.split(".")[2] ?? "";
    await expectEachRefused(
      [
        ["alg none", unsignedToken({ ...staffClaims, cnf }, identityOptions())],
        ["alg None", `${b64url({ alg: "None", kid: idp.kid })}.${b64url(payload)}.`],
        ["alg NONE", `${b64url({ alg: "NONE", typ: "JWT" })}.${b64url(payload)}.`],
        [
          "alg none, genuine signature kept",
          `${b64url({ alg: "none" })}.${b64url(payload)}.${signature}`,
        ],
        ["no alg at all", `${b64url({ kid: idp.kid })}.${b64url(payload)}.${signature}`],
      ],
      "token-invalid",
    );
  });

  it("HS256 MACed with the issuer's public key (key confusion, CVE-2016-10555 class)", async () => {
    const spkiPem = createPublicKey({ key: idp.publicJwk, format: "jwk" }).export({
      type: "spki",
      format: "pem",
    });
    const iat = nowS();
    const macWith = (secret: Uint8Array): Promise<string> =>
      new SignJWT({ ...staffClaims })
        .setProtectedHeader({ alg: "HS256", kid: idp.kid, typ: "JWT" })
        .setIssuer(IDP)
        .setAudience(AUD)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 300)
        .sign(secret);
    await expectEachRefused(
      [
        ["secret: the public JWK", await hs256WithPublicKey(idp, staffClaims, identityOptions())],
        ["secret: the public key as PEM", await macWith(Buffer.from(String(spkiPem)))],
        [
          "secret: the public key's DER",
          await macWith(
            createPublicKey({ key: idp.publicJwk, format: "jwk" }).export({
              type: "spki",
              format: "der",
            }),
          ),
        ],
      ],
      "token-invalid",
    );
  });

  it("a kid the issuer does not publish (rotated out, or a path)", async () => {
    const rotated = await createSigningKey("ES256", "idp-2019");
    const traversal = { ...attacker, kid: "../../../../idp-jwks.json" };
    await expectEachRefused(
      [
        ["an unknown kid", await mintToken(rotated, staffClaims, identityOptions())],
        ["a path as kid", await mintToken(traversal, staffClaims, identityOptions())],
        [
          "the issuer's key material, an unknown kid",
          await mintToken({ ...idp, kid: "idp-2026 " }, staffClaims, identityOptions()),
        ],
      ],
      "token-invalid",
    );
  });

  it("jku, x5u, x5c and embedded jwk headers naming the attacker's keys are never fetched nor used", async () => {
    const options = (header: Record<string, unknown>): MintOptions => identityOptions({ header });
    await expectEachRefused(
      [
        [
          "jku, attacker kid",
          await mintToken(attacker, staffClaims, options({ jku: attackerKeys.url })),
        ],
        [
          "jku under the issuer's kid",
          await mintToken(attacker, staffClaims, options({ jku: attackerKeys.url, kid: idp.kid })),
        ],
        [
          "x5u",
          await mintToken(attacker, staffClaims, options({ x5u: attackerKeys.url, kid: idp.kid })),
        ],
        [
          "x5c: the attacker's certificate",
          await mintToken(
            attacker,
            staffClaims,
            options({ x5c: [attackerCertificate], kid: undefined }),
          ),
        ],
        [
          "embedded jwk under the issuer's kid",
          await mintToken(
            attacker,
            staffClaims,
            options({ jwk: attacker.publicJwk, kid: idp.kid }),
          ),
        ],
      ],
      "token-invalid",
    );
    expect(attackerKeys.fetches()).toBe(0);
  });

  it("a wrong iss: another issuer, or the right one spelled differently", async () => {
    await expectEachRefused(
      await Promise.all(
        [
          "https://evil.test",
          `${IDP}/`,
          "HTTPS://IDP.CORP.TEST",
          "https://idp.corp.test.evil.test",
        ].map(
          async (iss) =>
            [iss, await mintToken(idp, staffClaims, identityOptions({ iss }))] as const,
        ),
      ),
      "token-invalid",
    );
  });

  it("a wrong aud: another service, the right name spelled differently, or none", async () => {
    const tokens = await Promise.all(
      ["another-service", "Verigate", "verigate-attestation"].map(
        async (aud) => [aud, await mintToken(idp, staffClaims, identityOptions({ aud }))] as const,
      ),
    );
    const none = await mintToken(idp, staffClaims, { iss: IDP, boundTo: alice });
    await expectEachRefused([...tokens, ["no aud", none]], "token-invalid");
  });

  it("no exp (a token valid forever), or an exp that is not a number", async () => {
    const thumbprint = thumbprintOf(alice);
    const base = new SignJWT({ ...staffClaims, cnf: { "x5t#S256": thumbprint } })
      .setProtectedHeader({ alg: "ES256", kid: idp.kid })
      .setIssuer(IDP)
      .setAudience(AUD)
      .setIssuedAt();
    // Typed as jose would not let a caller write it: an attacker's JSON has no types.
    const stringExp = new SignJWT({
      ...staffClaims,
      cnf: { "x5t#S256": thumbprint },
      exp: String(nowS() + 300),
    } as unknown as JWTPayload)
      .setProtectedHeader({ alg: "ES256", kid: idp.kid })
      .setIssuer(IDP)
      .setAudience(AUD)
      .setIssuedAt();
    await expectEachRefused(
      [
        ["no exp", await base.sign(idp.privateKey)],
        ["exp as a string", await stringExp.sign(idp.privateKey)],
      ],
      "token-invalid",
    );
  });

  it("iat in the future beyond the clock skew (a token minted to outlive its window)", async () => {
    const token = await mintToken(
      idp,
      staffClaims,
      identityOptions({ iat: nowS() + SKEW_S + 120 }),
    );
    await expectEachRefused([["iat ahead", token]], "token-issued-in-future");
  });

  it("expired beyond the clock skew", async () => {
    const token = await mintToken(
      idp,
      staffClaims,
      identityOptions({ iat: nowS() - 600, lifetime: 600 - SKEW_S - 30 }),
    );
    await expectEachRefused([["expired", token]], "token-expired");
  });

  it("a token bound (cnf x5t#S256) to bob's certificate, presented by alice, by no certificate, or unbound (RFC 8705)", async () => {
    const bobs = await mintToken(idp, staffClaims, identityOptions({ boundTo: bob }));
    await expectEachRefused([["bob's token", bobs]], "token-not-bound");
    const unbound = await mintToken(idp, staffClaims, { iss: IDP, aud: AUD });
    await expectEachRefused([["an unbound token", unbound]], "token-not-bound");
    // Stolen alice's token, sent without any client certificate.
    const alices = await mintToken(idp, staffClaims, identityOptions());
    const line = await expectDenied(h, bearer(alices, null), 401, ["token-not-bound"]);
    expect(line.identitySource).toBe("none");
  });

  it("a second token replaying a nonce already redeemed, from another client", async () => {
    const nonce = await newNonce(h);
    const teeClaims = { tee: "sev-snp", m: MEASUREMENT, d: false, nonce };
    const first = await mintToken(verifier, teeClaims, { iss: VERIFIER, aud: AUD });
    const { claims } = await expectForwarded(
      { as: alice, host: HOST, path: "/enclave/job", headers: { "x-attestation-token": first } },
      "enclave",
    );
    expect(claims.tee).toMatchObject({
      measurement: MEASUREMENT,
      debug: false,
      issuer: "enclave-verifier",
    });
    // The same nonce in a second, freshly signed token, sent by bob.
    const replay = await mintToken(
      verifier,
      { ...teeClaims, jti: "replay" },
      { iss: VERIFIER, aud: AUD },
    );
    const line = await expectDenied(
      h,
      { as: bob, host: HOST, path: "/enclave/job", headers: { "x-attestation-token": replay } },
      401,
      ["nonce-invalid"],
    );
    expect(line.teeMeasurement).toBeUndefined();
  });

  it("an oversized token (a signed 20 KiB payload) is refused unread", async () => {
    const token = await mintToken(
      idp,
      { ...staffClaims, padding: "A".repeat(20 * 1024) },
      identityOptions(),
    );
    expect(token.length).toBeGreaterThan(16 * 1024);
    const line = await expectDenied(h, bearer(token), 401, ["token-invalid"]);
    expect(line.detail).toBe("corp-idp: token too large");
  });

  it("a second Authorization header with a different token, and a repeated x-posture-token (request hygiene)", async () => {
    const good = await mintToken(idp, staffClaims, identityOptions());
    const forged = await mintToken(
      attacker,
      { sub: "admin", groups: ["staff", "admins"] },
      identityOptions(),
    );
    const posture = await mintToken(
      idp,
      { sub: "laptop-7", managed: true },
      { iss: POSTURE, aud: AUD },
    );
    const cases: readonly [string, readonly (readonly [string, string])[], string][] = [
      [
        "good first",
        [
          ["Authorization", `Bearer ${good}`],
          ["Authorization", `Bearer ${forged}`],
        ],
        "authorization",
      ],
      [
        "forged first",
        [
          ["authorization", `Bearer ${forged}`],
          ["AUTHORIZATION", `Bearer ${good}`],
        ],
        "authorization",
      ],
      [
        "Basic beside Bearer",
        [
          ["Authorization", "Basic YWRtaW46YWRtaW4="],
          ["Authorization", `Bearer ${good}`],
        ],
        "authorization",
      ],
      [
        "posture twice",
        [
          ["x-posture-token", posture],
          ["X-Posture-Token", forged],
        ],
        "x-posture-token",
      ],
    ];
    const before = h.upstream.seen.length;
    for (const [what, headers, name] of cases) {
      const res = await rawRequest(h, { as: alice, target: "/staff/payroll", headers });
      expect(res.status, what).toBe(400);
      expect(res.headers.connection).toBe("close");
      expect(JSON.parse(res.body)).toMatchObject({
        error: "bad-request",
        requestId: res.requestId,
      });
      const line = await h.audit.decisionFor(res.requestId);
      expect(line, what).toMatchObject({
        decision: "deny",
        status: 400,
        reasons: ["malformed-request"],
        detail: `more than one ${name} header`,
      });
    }
    expect(h.upstream.seen.length).toBe(before);
  });

  it("a token in the query string is never used as a credential", async () => {
    const token = await mintToken(idp, staffClaims, identityOptions());
    // Where only a token identity is allowed, the query's token proves nothing.
    const line = await expectDenied(
      h,
      { as: alice, host: HOST, path: `/staff/payroll?access_token=${token}&id_token=${token}` },
      403,
      ["no-matching-rule"],
    );
    expect(line.identitySource).toBe("certificate");
    // Where the certificate suffices, the query is the application's data: forwarded as
    // sent, and the assertion still speaks of the certificate alone.
    const { seen, claims } = await expectForwarded(
      { as: alice, host: HOST, path: `/search?access_token=${token}` },
      "app",
    );
    expect(seen.url).toBe(`/search?access_token=${token}`);
    expect(claims.identity.source).toBe("certificate");
    expect(claims.identity.groups).toBeUndefined();
  });

  it("a token for one issuer placed in another issuer's header (same IdP key, another iss)", async () => {
    const posture = await mintToken(
      idp,
      { sub: "laptop-7", managed: true },
      { iss: POSTURE, aud: AUD },
    );
    const identity = await mintToken(idp, staffClaims, identityOptions());
    const tee = await mintToken(
      verifier,
      { tee: "sev-snp", m: MEASUREMENT, d: false, nonce: "A".repeat(43) },
      { iss: VERIFIER, aud: AUD },
    );
    // A posture or attestation token as alice's Bearer credential.
    await expectEachRefused(
      [
        ["posture token as identity", posture],
        ["attestation token as identity", tee],
      ],
      "token-invalid",
    );
    // alice's identity token as a device's posture statement.
    const line = await expectDenied(
      h,
      { as: alice, host: HOST, path: "/devices/enroll", headers: { "x-posture-token": identity } },
      401,
      ["token-invalid"],
    );
    expect(String(line.detail)).toMatch(/^corp-mdm: .*iss/);
    expect(line.deviceIssuer).toBeUndefined();
    // The posture token where it belongs is believed, and only verigate's account of it passes.
    const { claims } = await expectForwarded(
      { as: alice, host: HOST, path: "/devices/enroll", headers: { "x-posture-token": posture } },
      "devices",
    );
    expect(claims.device).toMatchObject({ id: "laptop-7", managed: true, issuer: "corp-mdm" });
  });
});
