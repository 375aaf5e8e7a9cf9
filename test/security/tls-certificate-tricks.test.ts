import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { webcrypto } from "node:crypto";
import { connect, type SecureVersion, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createCertificateAuthority,
  type IssuedCertificate,
} from "../../src/dev-pki/certificate-authority.js";
import { x509 } from "../../src/crypto/x509.js";
import type { Reloader } from "../../src/reload/reloader.js";
import type { LogLine } from "../support/audit-capture.js";
import { connectFor } from "../support/connect-for-host.js";
import type { SeenRequest } from "../support/echo-upstream.js";
import { expectDenied, type GatewayRequest } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { keepAliveClient, type KeepAliveClient } from "../support/keep-alive-client.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { createTestPki, HOSTILE_SAN, type TestPki } from "../support/pki.js";
import { DEFAULT_HOST, rawRequest } from "../support/raw-request.js";
import { editConfig, reloaderFor } from "../support/reload-harness.js";
import { verifiedAssertionOf } from "../support/upstream-assertion.js";

/**
 * TLS and client-certificate tricks: a client that presents a certificate verigate
 * must not believe (forged, stale, revoked, for another purpose, carrying hostile
 * names), or that tries to keep or change an identity below HTTP (renegotiation,
 * session resumption, a kept-alive connection across a reload, an SNI naming
 * another host than the request). Every case checks what the client got, the audit
 * line's reason, and what the upstream saw: nothing for a refused request, and for
 * an allowed one only verigate's verified assertion about the real certificate.
 */

const APP_HOST = DEFAULT_HOST;
const ADMIN_HOST = "admin.verigate.test";
const ADMIN_UPSTREAM_PATH = "/admin-upstream";

/**
 * `app` lets every corp.test user in, `admin` only bob, and `by-address` (no host)
 * answers requests whose Host is not a configured name, such as an IP address.
 */
const ROUTES = `routes:
  - name: app
    match: { host: ${APP_HOST} }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
  - name: admin
    match: { host: ${ADMIN_HOST} }
    upstream: "{{upstream}}${ADMIN_UPSTREAM_PATH}"
    policy:
      allow:
        - identity.commonName: bob
  - name: by-address
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
`;

const MINUTE_MS = 60_000;
const YEAR_MS = 365 * 86_400_000;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;

/** A request to the app host (SNI and Host agree) as `as`. */
function toApp(as: IssuedCertificate | undefined, path = "/"): GatewayRequest {
  return { host: APP_HOST, path, ...(as === undefined ? {} : { as }) };
}

/** Asserts a refused certificate became no identity: the audit line names none of its claims. */
function expectNoIdentity(line: LogLine): void {
  expect(line.identitySource).toBe("none");
  expect(line.spiffeId).toBeUndefined();
  expect(line.subject).toBeUndefined();
  expect(line.certFingerprint).toBeUndefined();
}

/** A CA's or leaf's private key, from its PKCS#8 PEM, to sign with outside the test CA. */
async function signingKeyOf(holder: Pick<IssuedCertificate, "keyPem">): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(holder.keyPem);
  return webcrypto.subtle.importKey("pkcs8", der, P256, false, ["sign"]);
}

function serial(): string {
  return `41${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString("hex")}`;
}

function pemOf(der: ArrayBuffer, label: string): string {
  return `${x509.PemConverter.encode(der, label).trimEnd()}\n`;
}

/** alice's subject and SANs exactly, as an impersonator writes them. */
function aliceNames(): { subject: x509.JsonName; san: x509.SubjectAlternativeNameExtension } {
  return {
    subject: [{ O: ["Corp Test"] }, { CN: ["alice"] }],
    san: new x509.SubjectAlternativeNameExtension([
      { type: "email", value: "alice@corp.test" },
      { type: "url", value: "spiffe://corp.test/user/alice" },
      { type: "dns", value: "alice.devices.corp.test" },
    ]),
  };
}

/** A certificate and key pair made outside the test CA's `issue` (for chains it will not make). */
interface HandMade {
  readonly certificate: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
  readonly pem: string;
}

/**
 * Issues a certificate for a fresh key, signed by `signer` (whose certificate is
 * `issuer`), with the given extensions, subject key id and authority key id added.
 */
async function handIssue(
  issuer: x509.X509Certificate,
  signer: CryptoKey,
  subject: x509.JsonName,
  extensions: x509.Extension[],
): Promise<HandMade> {
  const keys = await webcrypto.subtle.generateKey(P256, true, ["sign", "verify"]);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: issuer.subjectName,
    notBefore: new Date(now - MINUTE_MS),
    notAfter: new Date(now + YEAR_MS),
    publicKey: keys.publicKey,
    signingKey: signer,
    signingAlgorithm: SIGNING,
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer),
    ],
  });
  return { certificate, keys, pem: pemOf(certificate.rawData, "CERTIFICATE") };
}

/** A client certificate in alice's name, issued by a hand-made CA: leaf then that CA, as a client sends it. */
async function aliceFrom(
  ca: HandMade | IssuedCertificate,
  caKey: CryptoKey,
): Promise<IssuedCertificate> {
  const { subject, san } = aliceNames();
  const leaf = await handIssue(ca.certificate, caKey, subject, [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    san,
  ]);
  const caPem = "pem" in ca ? ca.pem : ca.certPem;
  return {
    certPem: leaf.pem,
    chainPem: `${leaf.pem}${caPem}`,
    keyPem: pemOf(await webcrypto.subtle.exportKey("pkcs8", leaf.keys.privateKey), "PRIVATE KEY"),
    certificate: leaf.certificate,
    serialNumber: leaf.certificate.serialNumber,
  };
}

/**
 * An intermediate issued by the trusted root for server certificates only
 * (extendedKeyUsage serverAuth), and its (empty) CRL: a CA an operator delegated
 * to mint server certificates, which must not be able to mint client identities.
 */
async function serverOnlyIntermediate(pki: TestPki): Promise<{ ca: HandMade; crlPem: string }> {
  const rootKey = await signingKeyOf(pki.ca);
  const ca = await handIssue(
    pki.ca.certificate,
    rootKey,
    [{ CN: ["server-only intermediate"] }],
    [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  );
  const skid = ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subjectName,
    thisUpdate: new Date(Date.now() - MINUTE_MS),
    nextUpdate: new Date(Date.now() + YEAR_MS),
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(skid?.keyId ?? ""),
      // cRLNumber 1 (RFC 5280 section 5.2.3).
      new x509.Extension("2.5.29.20", false, new Uint8Array([0x02, 0x01, 0x01])),
    ],
  });
  return { ca, crlPem: pemOf(crl.rawData, "X509 CRL") };
}

/** Every response in `data` (a kept-alive or pipelined exchange), in order. */
function responsesIn(data: string): { status: number; requestId: string; connection?: string }[] {
  const found: { status: number; requestId: string; connection?: string }[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", at);
    if (end === -1) return found;
    const lines = data.slice(at, end).split("\r\n");
    const header = (name: string): string | undefined =>
      lines
        .find((line) => line.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim();
    const connection = header("connection");
    found.push({
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0),
      requestId: header("x-request-id") ?? "",
      ...(connection === undefined ? {} : { connection }),
    });
    at = end + 4;
    if (header("transfer-encoding")?.toLowerCase() !== "chunked") {
      at += Number(header("content-length") ?? 0);
      continue;
    }
    for (;;) {
      const lineEnd = data.indexOf("\r\n", at);
      const size = lineEnd === -1 ? 0 : Number.parseInt(data.slice(at, lineEnd), 16);
      if (lineEnd === -1 || Number.isNaN(size)) return found;
      at = lineEnd + 2 + size + 2;
      if (size === 0) break;
    }
  }
}

describe("client certificates verigate must not believe", () => {
  let h: GatewayHarness;
  let pki: TestPki;
  let serverOnly: { ca: HandMade; crlPem: string };

  beforeAll(async () => {
    // The worker's PKI (memoized: the gateway below uses the same one), so the CRL
    // bundle can also hold the hand-made intermediate's CRL: with any CRL configured
    // OpenSSL wants one for every CA of a chain, and would otherwise name that instead.
    pki = await createTestPki();
    serverOnly = await serverOnlyIntermediate(pki);
    h = await startGateway({
      crl: false,
      tls: "  crl: trust.crl\n",
      files: { "trust.crl": [...pki.crls, serverOnly.crlPem].join("") },
      routes: ROUTES,
    });
  });
  afterAll(() => h.close());

  it("impersonation: alice's exact subject and SANs from a CA nobody trusts, with its root sent along, or from a root named like the trusted one", async () => {
    // The untrusted root's copy of alice.
    const foreign = await expectDenied(h, toApp(pki.clients.fromOtherCa), 401, [
      "client-certificate-untrusted",
    ]);
    expectNoIdentity(foreign);
    // The same, with the untrusted root in the chain the client sends.
    const withRoot = {
      ...pki.clients.fromOtherCa,
      chainPem: `${pki.clients.fromOtherCa.chainPem}${pki.otherCa.certPem}`,
    };
    // OpenSSL names its last complaint: with tls.crl set, the CRL the untrusted root
    // has none of (SELF_SIGNED_CERT_IN_CHAIN came first). Refused all the same.
    const withRootLine = await expectDenied(h, toApp(withRoot), 401, [
      "client-certificate-invalid",
    ]);
    expect(withRootLine.detail).toBe("UNABLE_TO_GET_CRL");
    expectNoIdentity(withRootLine);
    // A root whose name is the trusted root's name, exactly: only the key decides.
    const lookalike = await createCertificateAuthority({ commonName: "verigate test CA" });
    expect(lookalike.certificate.subject).toBe(pki.ca.certificate.subject);
    const forged = await lookalike.issue({
      commonName: "alice",
      organization: "Corp Test",
      emails: ["alice@corp.test"],
      uris: ["spiffe://corp.test/user/alice"],
      dnsNames: ["alice.devices.corp.test"],
    });
    expectNoIdentity(await expectDenied(h, toApp(forged), 401, ["client-certificate-untrusted"]));
  });

  it("an expired certificate, and one not valid yet", async () => {
    const expired = await expectDenied(h, toApp(pki.clients.expired), 401, [
      "client-certificate-expired",
    ]);
    expect(expired.detail).toBe("CERT_HAS_EXPIRED");
    expectNoIdentity(expired);
    const early = await expectDenied(h, toApp(pki.clients.notYetValid), 401, [
      "client-certificate-not-yet-valid",
    ]);
    expect(early.detail).toBe("CERT_NOT_YET_VALID");
    expectNoIdentity(early);
  });

  it("a certificate revoked in tls.crl", async () => {
    const line = await expectDenied(h, toApp(pki.clients.revoked), 401, [
      "client-certificate-revoked",
    ]);
    expect(line.detail).toBe("CERT_REVOKED");
    expectNoIdentity(line);
  });

  it("a chain through an intermediate not trusted for client auth (a server-only CA, or a leaf acting as a CA)", async () => {
    // Control: the same hand-made leaf from an intermediate without an EKU restriction is alice.
    const viaIntermediate = await aliceFrom(pki.intermediate, await signingKeyOf(pki.intermediate));
    const control = await mtlsRequest({ port: h.port, pki, ...toApp(viaIntermediate) });
    expect(control.status).toBe(200);
    // A CA the root delegated for server certificates mints a client certificate for alice.
    const viaServerCa = await aliceFrom(serverOnly.ca, serverOnly.ca.keys.privateKey);
    const purpose = await expectDenied(h, toApp(viaServerCa), 401, [
      "client-certificate-wrong-purpose",
    ]);
    expect(purpose.detail).toBe("INVALID_PURPOSE");
    expectNoIdentity(purpose);
    // bob's own (CA:false) certificate signs a certificate in alice's name.
    const viaLeaf = await aliceFrom(pki.clients.bob, await signingKeyOf(pki.clients.bob));
    const notCa = await expectDenied(h, toApp(viaLeaf), 401, ["client-certificate-invalid"]);
    // OpenSSL 3.0 ends that chain's checks with an unspecific code (after INVALID_CA and
    // the CRL it cannot find for "CA" bob): whatever it names, no identity comes of it.
    expect(["INVALID_CA", "UNABLE_TO_GET_CRL", "UNSPECIFIED"]).toContain(notCa.detail);
    expectNoIdentity(notCa);
  });

  it("a certificate for server authentication only, and one without extendedKeyUsage", async () => {
    const server = await expectDenied(h, toApp(pki.clients.serverOnlyEku), 401, [
      "client-certificate-wrong-purpose",
    ]);
    expect(server.detail).toBe("INVALID_PURPOSE");
    expectNoIdentity(server);
    // OpenSSL takes a certificate without EKU as good for anything; verigate does not.
    const none = await expectDenied(h, toApp(pki.clients.noEku), 401, [
      "client-certificate-wrong-purpose",
    ]);
    expect(String(none.detail)).toContain("no extendedKeyUsage");
    expectNoIdentity(none);
  });

  it("header injection through claims: CR/LF and NUL in SANs and in the subject", async () => {
    for (const hostile of [pki.clients.controlCharsInSan, pki.clients.nulInSan]) {
      const line = await expectDenied(h, toApp(hostile), 401, ["client-certificate-malformed"]);
      expectNoIdentity(line);
      expect(JSON.stringify(line)).not.toContain("x-injected");
      expect(JSON.stringify(line)).not.toContain("evil");
    }
    // A subject CN carrying a header line, with a clean SPIFFE ID beside it.
    const crlfSubject = await pki.ca.issue({
      commonName: "mallory\r\nX-Verigate-User: admin",
      organization: "Corp Test",
      uris: ["spiffe://corp.test/user/mallory"],
    });
    const line = await expectDenied(h, toApp(crlfSubject), 401, ["client-certificate-malformed"]);
    expectNoIdentity(line);
    expect(JSON.stringify(line)).not.toContain("X-Verigate-User");
    expect(Object.values(HOSTILE_SAN).some((value) => JSON.stringify(line).includes(value))).toBe(
      false,
    );
  });

  it("TLS 1.2 renegotiation on a verified connection, to change the peer under it", async () => {
    const alice = pki.clients.alice;
    const before = h.upstream.seen.length;
    const socket: TLSSocket = connect({
      host: "127.0.0.1",
      port: h.port,
      ...connectFor(APP_HOST),
      ca: pki.ca.certPem,
      cert: alice.chainPem,
      key: alice.keyPem,
      maxVersion: "TLSv1.2",
    });
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    const errors: string[] = [];
    socket.on("error", (error: Error) => errors.push(error.message));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await once(socket, "secureConnect");
    expect(socket.getProtocol()).toBe("TLSv1.2");
    // The connection works: one request before the attempt is answered and forwarded.
    socket.write(`GET /before-renegotiation HTTP/1.1\r\nHost: ${APP_HOST}\r\n\r\n`);
    await expect.poll(() => responsesIn(data).map((r) => r.status)).toEqual([200]);
    const outcome = await new Promise<string>((resolve) => {
      const started = socket.renegotiate({ rejectUnauthorized: true }, (error) =>
        resolve(error === null ? "renegotiated" : `refused: ${error.message}`),
      );
      if (started === false) resolve("refused: not started");
      void closed.then(() => resolve("closed"));
      // What a client would send once renegotiated: it also drives the handshake.
      if (!socket.destroyed)
        socket.write(`GET /after-renegotiation HTTP/1.1\r\nHost: ${APP_HOST}\r\n\r\n`);
    });
    expect(outcome).not.toBe("renegotiated");
    socket.destroy();
    await closed;
    // verigate answered the attempt with a no_renegotiation alert, and the connection ended.
    expect(errors.join("\n")).toMatch(/no renegotiation/);
    expect(responsesIn(data).map((r) => r.status)).toEqual([200]);
    expect(h.upstream.seen.slice(before).map((s: SeenRequest) => s.url)).toEqual([
      "/before-renegotiation",
    ]);
  });

  it("Host naming another server than the TLS SNI: 421 (domain fronting class)", async () => {
    const before = h.upstream.seen.length;
    // alice connects for the app host and asks for the admin host; bob too, although
    // the admin policy would let him in: the connection was not made for that host.
    for (const as of [pki.clients.alice, pki.clients.bob]) {
      const res = await rawRequest(h, {
        as,
        target: "/users",
        host: ADMIN_HOST,
        servername: APP_HOST,
      });
      expect(res.status).toBe(421);
      expect(res.headers.connection).toBe("close");
      expect(JSON.parse(res.body)).toMatchObject({
        error: "misdirected",
        requestId: res.requestId,
      });
      expect(res.body).not.toContain("misdirected-request");
      const line = await h.audit.decisionFor(res.requestId);
      expect(line).toMatchObject({
        decision: "deny",
        status: 421,
        reasons: ["misdirected-request"],
        detail: `Host ${ADMIN_HOST} on a connection for ${APP_HOST}`,
      });
      // Refused before routing: no route's policy ever ran.
      expect(line.route).toBe("");
    }
    // A second request on a kept-alive connection may not switch hosts either.
    const alice = pki.clients.alice;
    const socket = connect({
      host: "127.0.0.1",
      port: h.port,
      servername: APP_HOST,
      ca: pki.ca.certPem,
      cert: alice.chainPem,
      key: alice.keyPem,
    });
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    await once(socket, "secureConnect");
    socket.write(
      `GET /first HTTP/1.1\r\nHost: ${APP_HOST}\r\n\r\n` +
        `GET /second HTTP/1.1\r\nHost: ${ADMIN_HOST}\r\nConnection: close\r\n\r\n`,
    );
    await once(socket, "close");
    const [first, second] = responsesIn(data);
    expect(first?.status).toBe(200);
    expect(second?.status).toBe(421);
    expect((await h.audit.decisionFor(second?.requestId ?? "")).reasons).toEqual([
      "misdirected-request",
    ]);
    expect(h.upstream.seen.slice(before).map((s) => s.url)).toEqual(["/first"]);
  });

  it("a client that sends no SNI (connects by IP address) is served, not taken for misdirected", async () => {
    // By address: no SNI, and a Host that is the address.
    const byAddress = await mtlsRequest({
      port: h.port,
      pki,
      as: pki.clients.alice,
      host: `127.0.0.1:${h.port}`,
      path: "/by-ip",
    });
    expect(byAddress.status).toBe(200);
    const addressLine = await h.audit.decisionFor(String(byAddress.headers["x-request-id"]));
    expect(addressLine).toMatchObject({
      decision: "allow",
      route: "by-address",
      host: "127.0.0.1",
    });
    // No SNI, and a Host naming a configured host: nothing to compare, so it is routed by Host.
    const noSni = await rawRequest(h, { target: "/no-sni", host: APP_HOST, servername: "" });
    expect(noSni.status).toBe(200);
    const line = await h.audit.decisionFor(noSni.requestId);
    expect(line).toMatchObject({ decision: "allow", route: "app", reasons: ["allowed-by-rule"] });
    for (const [requestId, route] of [
      [String(byAddress.headers["x-request-id"]), "by-address"],
      [noSni.requestId, "app"],
    ] as const) {
      const seen = h.upstream.seen.find((s) => s.headers["x-request-id"] === requestId);
      expect(seen).toBeDefined();
      const claims = await verifiedAssertionOf(h, seen as SeenRequest, route);
      expect(claims.identity).toMatchObject({
        source: "certificate",
        commonName: "alice",
        spiffeId: "spiffe://corp.test/user/alice",
      });
    }
  });
});

describe("a certificate without extendedKeyUsage, where tls.unsafeAllowClientCertWithoutEku is set", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: ROUTES, tls: "  unsafeAllowClientCertWithoutEku: true\n" });
  });
  afterAll(() => h.close());

  it("the operator's opt-in admits no-EKU, never serverAuth-only, and the upstream hears only who it really is", async () => {
    await expectDenied(h, toApp(h.pki.clients.serverOnlyEku), 401, [
      "client-certificate-wrong-purpose",
    ]);
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.noEku,
      host: APP_HOST,
      path: "/opted-in",
      headers: { "x-verigate-user": "alice", "x-forwarded-client-cert": "Subject=CN=alice" },
    });
    expect(res.status).toBe(200);
    const requestId = String(res.headers["x-request-id"]);
    expect(await h.audit.decisionFor(requestId)).toMatchObject({
      decision: "allow",
      reasons: ["allowed-by-rule"],
      spiffeId: "spiffe://corp.test/user/no-eku",
    });
    const seen = h.upstream.seen.find((s) => s.headers["x-request-id"] === requestId);
    expect(seen).toBeDefined();
    expect(seen?.headers["x-forwarded-client-cert"]).toBeUndefined();
    const claims = await verifiedAssertionOf(h, seen as SeenRequest, "app");
    expect(claims.identity).toMatchObject({ commonName: "no-eku", source: "certificate" });
  });
});

/** One TLS connection to `h` with one request on it: whether the session was resumed, and the answer. */
async function handshakeAndRequest(
  h: GatewayHarness,
  version: SecureVersion,
  as: IssuedCertificate | undefined,
  session: Buffer | undefined,
  path: string,
): Promise<{ reused: boolean; session: Buffer | undefined; status: number; requestId: string }> {
  const sessions: Buffer[] = [];
  const socket: TLSSocket = connect({
    host: "127.0.0.1",
    port: h.port,
    ...connectFor(APP_HOST),
    ca: h.pki.ca.certPem,
    ...(as === undefined ? {} : { cert: as.chainPem, key: as.keyPem }),
    minVersion: version,
    maxVersion: version,
    ...(session === undefined ? {} : { session }),
  });
  socket.on("session", (s: Buffer) => sessions.push(s));
  let data = "";
  socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
  await once(socket, "secureConnect");
  const reused = socket.isSessionReused();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${APP_HOST}\r\nConnection: close\r\n\r\n`);
  await once(socket, "close");
  const [response] = responsesIn(data);
  return {
    reused,
    session: sessions.at(-1),
    status: response?.status ?? 0,
    requestId: response?.requestId ?? "",
  };
}

describe("session resumption across a change of trusted CAs (nginx CVE-2025-23419 / Envoy CVE-2022-21654 class)", () => {
  let h: GatewayHarness;
  let reloader: Reloader;
  beforeAll(async () => {
    h = await startGateway({ crl: false, extra: "reload: { watch: false }", routes: ROUTES });
    reloader = reloaderFor(h);
  });
  afterAll(async () => {
    reloader.close();
    await h.close();
  });

  it.each(["TLSv1.2", "TLSv1.3"] as const)(
    "a %s session or ticket from before the reload does not carry alice's identity past it",
    async (version) => {
      const alice = h.pki.clients.alice;
      const first = await handshakeAndRequest(h, version, alice, undefined, "/before");
      expect(first.status).toBe(200);
      expect(first.session, "the client has a session or ticket to try").toBeInstanceOf(Buffer);
      const before = h.upstream.seen.length;
      await editConfig(h, `clientCAs: ${h.files.clientCAs}`, `clientCAs: ${h.files.otherCa}`);
      try {
        expect((await reloader.reload("test")).result).toBe("applied");
        // Resuming with alice's certificate: a full handshake, against the new CAs.
        const withCert = await handshakeAndRequest(h, version, alice, first.session, "/resumed");
        expect(withCert.reused).toBe(false);
        expect(withCert.status).toBe(401);
        const certLine = await h.audit.decisionFor(withCert.requestId);
        expect(certLine).toMatchObject({ reasons: ["client-certificate-untrusted"] });
        expectNoIdentity(certLine);
        // Resuming with the session alone (no certificate): the stored peer never comes back.
        const bare = await handshakeAndRequest(h, version, undefined, first.session, "/bare");
        expect(bare.reused).toBe(false);
        expect(bare.status).toBe(401);
        const bareLine = await h.audit.decisionFor(bare.requestId);
        expect(bareLine).toMatchObject({ reasons: ["client-certificate-required"] });
        expectNoIdentity(bareLine);
        expect(h.upstream.seen.length).toBe(before);
      } finally {
        await editConfig(h, `clientCAs: ${h.files.otherCa}`, `clientCAs: ${h.files.clientCAs}`);
        expect((await reloader.reload("test")).result).toBe("applied");
      }
    },
  );
});

describe("a kept-alive connection across a reload that revokes its client", () => {
  let h: GatewayHarness;
  let reloader: Reloader;
  const clients: KeepAliveClient[] = [];
  beforeAll(async () => {
    h = await startGateway({
      extra: "reload: { watch: false }",
      routes: `routes:
  - name: app
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
`,
    });
    reloader = reloaderFor(h);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    reloader.close();
    await h.close();
  });

  it("the next request on it gets 421 tls-settings-changed and is not forwarded; new connections see the CRL", async () => {
    const { pki } = h;
    const busy = keepAliveClient(h.port, pki, pki.clients.alice);
    clients.push(busy);
    // A request is in flight on alice's connection while her certificate is revoked.
    const inFlight = busy.get("/delay/while-revoked");
    await expect
      .poll(() => h.upstream.seen.some((s) => s.url === "/delay/while-revoked"))
      .toBe(true);
    const crlFile = join(dirname(h.configFile), "alice-revoked.crl");
    const revokesAlice = await pki.ca.createCrl({
      revoked: [pki.clients.revoked.serialNumber, pki.clients.alice.serialNumber],
    });
    await writeFile(crlFile, revokesAlice + pki.intermediateCrlPem + pki.attestationCrlPem);
    await editConfig(h, `crl: ${h.files.crl}`, `crl: ${crlFile}`);
    expect((await reloader.reload("test")).result).toBe("applied");

    const finished = await inFlight;
    expect(finished.status).toBe(200);
    const before = h.upstream.seen.length;
    const refused = await busy.get("/after-revocation");
    expect(refused.socket).toBe(finished.socket);
    expect(refused.status).toBe(421);
    expect(refused.headers.connection).toBe("close");
    expect(refused.json()).toMatchObject({
      error: "retry-new-connection",
      requestId: refused.headers["x-request-id"],
    });
    const line = await h.audit.decisionFor(String(refused.headers["x-request-id"]));
    expect(line).toMatchObject({
      decision: "deny",
      status: 421,
      reasons: ["tls-settings-changed"],
    });
    expect(h.upstream.seen.length).toBe(before);

    // On a new connection alice is revoked; bob, whom the new CRL does not list, is not.
    const again = await expectDenied(h, { as: pki.clients.alice, path: "/retry" }, 401, [
      "client-certificate-revoked",
    ]);
    expectNoIdentity(again);
    const bob = await mtlsRequest({ port: h.port, pki, as: pki.clients.bob, path: "/bob" });
    expect(bob.status).toBe(200);
  });
});
