import { createHash, generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  SignJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Claims } from "../../../src/claims/claims.js";
import { ConfigError } from "../../../src/config/config-problem.js";
import {
  createAssertionKeys,
  type AssertionJwks,
  type AssertionKeys,
} from "../../../src/proxy/assertion-keys.js";
import { AssertionSigner } from "../../../src/proxy/assertion-reuse.js";
import { ASSERTION_SECONDS, type AssertionFacts } from "../../../src/proxy/upstream-assertion.js";
import { JWKS_PATH, serveJwks } from "../../../src/well-known/jwks-endpoint.js";

const signers = new WeakMap<AssertionKeys, AssertionSigner>();

/** One assertion per call, as with `assertion.reuseFor: 0s`; a failure is a rejection. */
function signAssertion(keys: AssertionKeys, facts: AssertionFacts, now: number): Promise<string> {
  const signer = signers.get(keys) ?? new AssertionSigner(keys);
  signers.set(keys, signer);
  try {
    return Promise.resolve(signer.sign(facts, now, 0));
  } catch (error: unknown) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0, 500);
const IAT = Math.floor(NOW / 1000);
const CERT_DER = Buffer.from("a client certificate's DER, standing in");
const CERT_SHA256 = createHash("sha256").update(CERT_DER).digest();
const LEAK = "raw-claim-value-that-must-not-leave";

const FULL_CLAIMS: Claims = {
  identity: {
    source: "certificate",
    subject: "CN=alice,O=Example",
    commonName: "alice",
    emails: ["alice@example.test"],
    dnsNames: [],
    spiffeId: "spiffe://example.test/alice",
    groups: ["payroll-admins"],
    issuer: "CN=Example Client CA",
    certFingerprint: CERT_SHA256.toString("hex"),
  },
  device: {
    id: "dev-42",
    managed: true,
    compliant: true,
    os: "macOS",
    osVersion: "15.2",
    diskEncrypted: true,
    firewall: false,
    screenLock: true,
    issuer: "mdm",
    age: 12_000,
    claims: { serial: LEAK },
  },
  tee: {
    platform: "sev-snp",
    measurement: "ab".repeat(48),
    debug: false,
    tcbStatus: "UpToDate",
    svn: 3,
    issuer: "amd",
    age: 4_000,
    boundToClientCert: true,
    claims: { report_data: LEAK },
  },
  request: { method: "GET", path: "/pay", host: "payroll.test", sourceIp: "192.0.2.7", time: NOW },
};

const FACTS: AssertionFacts = {
  route: "payroll",
  requestId: "rid-123",
  revision: "rev-abc",
  claims: FULL_CLAIMS,
};

function verifyWith(jwks: AssertionJwks, token: string, now = NOW, audience = "payroll") {
  return jwtVerify(token, createLocalJWKSet({ keys: [...jwks.keys] }), {
    algorithms: ["ES256"],
    issuer: "verigate",
    audience,
    currentDate: new Date(now),
  });
}

function p256Pem(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

describe("signAssertion", () => {
  const keys = createAssertionKeys({ now: () => NOW });

  it("verifies with jose against jwks() and carries exactly the vetted claims", async () => {
    const token = await signAssertion(keys, FACTS, NOW);
    const { payload, protectedHeader } = await verifyWith(keys.jwks(), token);
    expect(protectedHeader).toEqual({ alg: "ES256", kid: keys.kid, typ: "JWT" });
    expect(payload).toEqual({
      iss: "verigate",
      aud: "payroll",
      sub: "CN=alice,O=Example",
      iat: IAT,
      exp: IAT + 60,
      jti: "rid-123",
      rev: "rev-abc",
      identity: {
        source: "certificate",
        subject: "CN=alice,O=Example",
        issuer: "CN=Example Client CA",
        commonName: "alice",
        emails: ["alice@example.test"],
        dnsNames: [],
        spiffeId: "spiffe://example.test/alice",
        groups: ["payroll-admins"],
        certFingerprint: CERT_SHA256.toString("hex"),
      },
      device: {
        id: "dev-42",
        managed: true,
        compliant: true,
        os: "macOS",
        osVersion: "15.2",
        diskEncrypted: true,
        firewall: false,
        screenLock: true,
        issuer: "mdm",
        age: 12_000,
      },
      tee: {
        platform: "sev-snp",
        measurement: "ab".repeat(48),
        debug: false,
        tcbStatus: "UpToDate",
        svn: 3,
        issuer: "amd",
        age: 4_000,
        boundToClientCert: true,
      },
      cnf: { "x5t#S256": CERT_SHA256.toString("base64url") },
    });
    expect(payload.exp! - payload.iat!).toBe(ASSERTION_SECONDS);
  });

  it("never copies raw device or tee claims", async () => {
    const token = await signAssertion(keys, FACTS, NOW);
    const { payload } = await verifyWith(keys.jwks(), token);
    expect(payload["tee"]).not.toHaveProperty("claims");
    expect(payload["device"]).not.toHaveProperty("claims");
    const body = Buffer.from(token.split(".")[1]!, "base64url").toString();
    expect(body).not.toContain(LEAK);
    expect(body).not.toContain("report_data");
  });

  it.each([
    [
      "a token identity: sub from the subject, no device, tee or cnf",
      { source: "token", subject: "user-7", issuer: "https://idp.test" },
      {
        sub: "user-7",
        identity: { source: "token", subject: "user-7", issuer: "https://idp.test" },
      },
    ],
    [
      "a SPIFFE-only identity: sub from the SPIFFE ID",
      { source: "certificate", spiffeId: "spiffe://t/w" },
      { sub: "spiffe://t/w", identity: { source: "certificate", spiffeId: "spiffe://t/w" } },
    ],
    ["no identity: no sub", { source: "none" }, { identity: { source: "none" } }],
  ] as const)("%s", async (_name, identity, expected) => {
    const claims: Claims = {
      identity,
      device: { claims: { only: LEAK } },
      tee: {},
      request: FULL_CLAIMS.request,
    };
    const token = await signAssertion(keys, { ...FACTS, claims, issuer: "gw.example" }, NOW);
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...keys.jwks().keys] }), {
      issuer: "gw.example",
      audience: "payroll",
      currentDate: new Date(NOW),
    });
    expect(payload).toEqual({
      iss: "gw.example",
      aud: "payroll",
      iat: IAT,
      exp: IAT + 60,
      jti: "rid-123",
      rev: "rev-abc",
      ...expected,
    });
  });

  it("is refused by another route's audience and after 60 s", async () => {
    const token = await signAssertion(keys, FACTS, NOW);
    await expect(verifyWith(keys.jwks(), token, NOW, "billing")).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
    await expect(verifyWith(keys.jwks(), token, NOW + 59_000)).resolves.toBeDefined();
    await expect(verifyWith(keys.jwks(), token, NOW + 61_000)).rejects.toBeInstanceOf(
      errors.JWTExpired,
    );
  });

  it("fails closed on a malformed certificate fingerprint", async () => {
    const claims: Claims = {
      ...FULL_CLAIMS,
      identity: { source: "certificate", certFingerprint: "zz" },
    };
    await expect(signAssertion(keys, { ...FACTS, claims }, NOW)).rejects.toThrow(TypeError);
  });

  it("costs little per request (reported)", async () => {
    const rounds = 2_000;
    for (let i = 0; i < 200; i += 1) await signAssertion(keys, FACTS, NOW);
    let start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i += 1) await signAssertion(keys, FACTS, NOW);
    const ours = Number(process.hrtime.bigint() - start) / 1000 / rounds;

    // The same claims through jose's SignJWT (WebCrypto), the way verigate signed before.
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { payload } = await verifyWith(keys.jwks(), await signAssertion(keys, FACTS, NOW));
    const viaJose = () =>
      new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: "JWT" }).sign(privateKey);
    for (let i = 0; i < 200; i += 1) await viaJose();
    start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i += 1) await viaJose();
    const jose = Number(process.hrtime.bigint() - start) / 1000 / rounds;

    process.stdout.write(
      `signAssertion: ${ours.toFixed(1)} µs/assertion; jose SignJWT: ${jose.toFixed(1)} µs (${rounds} rounds)\n`,
    );
    expect(ours).toBeLessThan(2_000);
  });
});

describe("createAssertionKeys", () => {
  it("gives a configured key a stable RFC 7638 kid", async () => {
    const pem = p256Pem();
    const a = createAssertionKeys({ keyPem: pem });
    const b = createAssertionKeys({ keyPem: pem });
    expect(a.kid).toBe(b.kid);
    expect(a.kid).toBe(await calculateJwkThumbprint(a.jwks().keys[0]!, "sha256"));
    const token = await signAssertion(a, FACTS, NOW);
    await expect(verifyWith(b.jwks(), token)).resolves.toBeDefined();
  });

  it("gives a generated key a fresh kid", () => {
    expect(createAssertionKeys().kid).not.toBe(createAssertionKeys().kid);
  });

  it("publishes only public members", () => {
    const keys = createAssertionKeys();
    keys.rotate();
    const { keys: published } = keys.jwks();
    expect(published).toHaveLength(2);
    for (const jwk of published) {
      expect(Object.keys(jwk).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
      expect(jwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
      expect(jwk).not.toHaveProperty("d");
    }
    expect(JSON.stringify(keys)).not.toMatch(/"d"/);
  });

  it("keeps the previous key published for one rotation", async () => {
    const keys = createAssertionKeys();
    const first = keys.kid;
    const oldToken = await signAssertion(keys, FACTS, NOW);

    keys.rotate();
    expect(keys.kid).not.toBe(first);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([keys.kid, first]);
    await expect(verifyWith(keys.jwks(), oldToken)).resolves.toBeDefined();
    const newToken = await signAssertion(keys, FACTS, NOW);
    expect(decodeProtectedHeader(newToken).kid).toBe(keys.kid);

    keys.rotate();
    expect(keys.jwks().keys.map((k) => k.kid)).not.toContain(first);
    await expect(verifyWith(keys.jwks(), oldToken)).rejects.toBeInstanceOf(
      errors.JWKSNoMatchingKey,
    );
    await expect(verifyWith(keys.jwks(), newToken)).resolves.toBeDefined();
  });

  it("rotates by itself on maybeRotate once the period has passed, without timers", async () => {
    let clock = NOW;
    const keys = createAssertionKeys({ rotateEveryMs: 3_600_000, now: () => clock });
    const first = keys.kid;
    expect(keys.maybeRotate(NOW + 3_599_999)).toBe(false);
    expect(keys.kid).toBe(first);

    clock = NOW + 3_600_000;
    const token = await signAssertion(keys, FACTS, clock);
    expect(keys.kid).not.toBe(first);
    expect(decodeProtectedHeader(token).kid).toBe(keys.kid);
    expect(keys.maybeRotate(clock + 1)).toBe(false);
    expect(keys.maybeRotate(clock + 3_600_000)).toBe(true);
    expect(keys.jwks().keys).toHaveLength(2);
    expect(keys.jwks().keys.map((k) => k.kid)).not.toContain(first);
  });

  it("never rotates without rotateEveryMs", () => {
    const keys = createAssertionKeys({ keyPem: p256Pem() });
    expect(keys.maybeRotate(NOW + 10 * 365 * 86_400_000)).toBe(false);
  });

  it.each([
    ["an RSA key", { keyPem: rsaPem() }, /EC P-256/],
    [
      "a P-384 key",
      {
        keyPem: generateKeyPairSync("ec", { namedCurve: "P-384" })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString(),
      },
      /EC P-256/,
    ],
    ["text that is not PEM", { keyPem: "not a key" }, /not a PEM private key/],
    ["a rotation shorter than an assertion", { rotateEveryMs: 59_999 }, /at least 60000/],
    ["rotating a configured key", { keyPem: p256Pem(), rotateEveryMs: 3_600_000 }, /configured/],
  ])("refuses %s as a config error", (_name, options, message) => {
    expect(() => createAssertionKeys(options)).toThrow(ConfigError);
    expect(() => createAssertionKeys(options)).toThrow(message);
  });
});

function rsaPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
}

describe("serveJwks", () => {
  let server: Server;
  let base: string;
  const keys: AssertionKeys = createAssertionKeys();
  keys.rotate();

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === JWKS_PATH) serveJwks(req, res, keys, "rid-jwks");
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve, reject) =>
      server.close((e) => (e === undefined ? resolve() : reject(e))),
    );
  });

  it("serves the public keys at /.well-known/verigate/jwks.json, cacheable for 5 minutes", async () => {
    expect(JWKS_PATH).toBe("/.well-known/verigate/jwks.json");
    const res = await fetch(`${base}${JWKS_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-request-id")).toBe("rid-jwks");
    const body = (await res.json()) as AssertionJwks;
    expect(body).toEqual(keys.jwks());
    expect(body.keys).toHaveLength(2);
    const token = await signAssertion(keys, FACTS, NOW);
    await expect(verifyWith(body, token)).resolves.toBeDefined();
  });

  it("answers 405 to POST", async () => {
    const res = await fetch(`${base}${JWKS_PATH}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ error: "method-not-allowed", requestId: "rid-jwks" });
  });
});
