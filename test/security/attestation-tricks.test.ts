import { createHash, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DICE_CMW_OID } from "../../src/claims/evidence/in-certificate/evidence-locations.js";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { LogLine } from "../support/audit-capture.js";
import { cbor } from "../support/cbor-encode.js";
import {
  issueAttestedCertificate,
  makeAttestedKey,
} from "../support/evidence/attested-certificate-factory.js";
import {
  bindingOf,
  envelopeOf,
  evidenceHeader,
  flipBit,
  newNonce,
  spkiOf,
  type EnvelopeParts,
} from "../support/evidence/evidence-delivery.js";
import {
  defaultTestTcb,
  getSnpTestChain,
  makeSnpReport,
  type SnpReportSpec,
} from "../support/evidence/sev-snp-factory.js";
import type { SeenRequest } from "../support/echo-upstream.js";
import { expectDenied, type GatewayRequest } from "../support/expect-decision.js";
import {
  startGateway,
  type GatewayHarness,
  type HarnessOptions,
} from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { TEST_MEASUREMENT, TEST_TEE_CLAIMS } from "../support/pki.js";
import { DEFAULT_HOST } from "../support/raw-request.js";
import { createSigningKey, jwksOf, mintToken, type TestSigningKey } from "../support/token-keys.js";
import { verifiedAssertionOf } from "../support/upstream-assertion.js";

/**
 * Attestation tricks: TEE claims verigate must not believe (or must believe to be
 * exactly what they are): debug guests, unlisted measurements, out-of-date TCBs,
 * evidence not bound to the presenting client, genuine evidence altered by one bit,
 * self-signed attested certificates nobody allowed, claims in certificates from a
 * CA that vouches for nothing, forged or foreign verigate attestation tokens, and
 * attestation tokens past their issuer's maxAge. Every case checks the client's
 * status, the audit line's reasons, and the upstream: nothing for a refused request;
 * for an allowed one, verigate's verified assertion of the TEE facts only.
 */

const HOST = DEFAULT_HOST;
const ROUTE = "enclave";
const sha384 = (text: string): string => createHash("sha384").update(text).digest("hex");
/** The launch measurement of the approved SEV-SNP guest (test evidence). */
const SNP_MEASUREMENT = sha384("verigate security approved snp guest");
/** What the cloud verifier's tokens say the approved TDX guest measures. */
const TOKEN_MEASUREMENT = sha384("verigate security approved tdx guest");
const VERIFIER = "https://verifier.corp.test";
const MAX_AGE_MINUTES = 5;

/**
 * Three sources of tee.* claims, each for the same route: raw SEV-SNP evidence
 * (verified up to the test ARK, bound to the client's key, TCB against a minimum
 * equal to the test VCEK's), a CA that vouches for claims in the certificates it
 * issues, and a cloud verifier's tokens (generic profile, maxAge 5 minutes).
 */
function attestationConfig(): string {
  const tcb = defaultTestTcb("Milan");
  return `measurements:
  approved: ["${SNP_MEASUREMENT}", "${TEST_MEASUREMENT}", "${TOKEN_MEASUREMENT}"]
issuers:
  - name: snp-hw
    kind: attestation
    evidence: sev-snp
    roots: [snp-test-ark.pem]
    bindToClientCert: true
    minimumTcb: { bootloader: ${tcb.bootloader}, tee: ${tcb.tee}, snp: ${tcb.snp}, microcode: ${tcb.microcode} }
  - name: attest-ca
    kind: attestation
    ca: "{{attestationCA}}"
  - name: cloud-verifier
    kind: attestation
    profile: generic
    claims: { platform: platform, measurement: measurement, debug: debug, tcbStatus: tcb }
    issuer: ${VERIFIER}
    audience: verigate
    algorithms: [ES256]
    jwks: { file: verifier-jwks.json }
    maxAge: ${MAX_AGE_MINUTES}m
`;
}

const ROUTES = `routes:
  - name: ${ROUTE}
    match: { host: ${HOST} }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.measurement: { inList: approved }
          tee.debug: false
          tee.tcbStatus: UpToDate
`;

/** A gateway with `attestationConfig` (no CRL: hand-made CA chains below would lack one). */
async function attestationGateway(verifier: TestSigningKey): Promise<GatewayHarness> {
  const options: HarnessOptions = {
    crl: false,
    files: {
      "snp-test-ark.pem": (await getSnpTestChain()).arkPem,
      "verifier-jwks.json": JSON.stringify(jwksOf(verifier)),
    },
    extra: attestationConfig(),
    routes: ROUTES,
  };
  return startGateway(options);
}

/** A client certificate and key as a TLS client presents them. */
type ClientCredentials = Pick<IssuedCertificate, "chainPem" | "keyPem">;

/**
 * A self-signed "attested TLS" certificate (Gramine RA-TLS style): genuine test
 * SEV-SNP evidence (`report`) whose report data binds the certificate's own key
 * (SHA-512 of its DER SPKI), in a DICE conceptual-message-wrapper extension, beside
 * any `extensions` given.
 */
async function selfSignedAttested(
  report: SnpReportSpec,
  extensions: readonly { oid: string; value: Uint8Array }[] = [],
): Promise<ClientCredentials> {
  const key = await makeAttestedKey();
  const { evidence, certs } = await makeSnpReport({
    ...report,
    reportData: createHash("sha512").update(key.spki).digest(),
  });
  const cmw = cbor.encode([
    "application/octet-stream",
    Buffer.concat([Buffer.from(evidence), ...certs]),
  ]);
  const der = await issueAttestedCertificate({
    key,
    extensions: [{ oid: DICE_CMW_OID, value: cmw }, ...extensions],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key.keys.privateKey));
  const pem = (label: string, bytes: Buffer): string =>
    `-----BEGIN ${label}-----\n${bytes.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END ${label}-----\n`;
  return { chainPem: pem("CERTIFICATE", der), keyPem: pem("PRIVATE KEY", pkcs8) };
}

/** The request a client makes to the enclave route. */
function call(as: ClientCredentials, headers: Record<string, string> = {}): GatewayRequest {
  return { as, host: HOST, path: "/payroll/run", headers };
}

/** Sends an allowed request; returns the verified assertion the upstream received, after checking it got no evidence or token. */
async function expectForwarded(
  h: GatewayHarness,
  request: GatewayRequest,
  at?: number,
): Promise<{ line: LogLine; tee: Record<string, unknown>; identity: Record<string, unknown> }> {
  const res = await mtlsRequest({ port: h.port, pki: h.pki, ...request });
  expect(res.status).toBe(200);
  const requestId = String(res.headers["x-request-id"]);
  const line = await h.audit.decisionFor(requestId);
  expect(line).toMatchObject({ decision: "allow", route: ROUTE, reasons: ["allowed-by-rule"] });
  const seen = h.upstream.seen.find((s) => s.headers["x-request-id"] === requestId);
  expect(seen, "the upstream received the allowed request").toBeDefined();
  for (const name of ["x-tee-evidence", "x-verigate-attestation", "x-attestation-token"])
    expect(seen?.headers[name], name).toBeUndefined();
  const claims = await verifiedAssertionOf(h, seen as SeenRequest, ROUTE, at);
  expect(claims.tee, "the assertion states the TEE facts verigate verified").toBeDefined();
  return {
    line,
    tee: claims.tee as unknown as Record<string, unknown>,
    identity: claims.identity as unknown as Record<string, unknown>,
  };
}

const DENIED_BY_DEBUG = ["no-matching-rule", "attestation-debug-enabled"];
const NO_TEE = ["no-matching-rule", "attestation-missing"];

describe("attestation claims verigate must not believe, or must see for what they are", () => {
  let h: GatewayHarness;
  let verifier: TestSigningKey;
  let alice: IssuedCertificate;
  let bob: IssuedCertificate;

  beforeAll(async () => {
    verifier = await createSigningKey("ES256", "verifier-1");
    h = await attestationGateway(verifier);
    ({ alice, bob } = h.pki.clients);
  });
  afterAll(() => h.close());

  /** SEV-SNP evidence binding a fresh nonce to `boundTo`'s key (default the presenter's), in x-tee-evidence. */
  async function boundEvidence(
    presenter: IssuedCertificate,
    spec: SnpReportSpec & { boundTo?: IssuedCertificate } = {},
  ): Promise<Record<string, string>> {
    const nonce = await newNonce(h);
    const { boundTo, ...report } = spec;
    const input = await makeSnpReport({
      measurement: SNP_MEASUREMENT,
      ...report,
      reportData: bindingOf(nonce, spkiOf(boundTo ?? presenter)),
    });
    return evidenceHeader({ platform: "sev-snp", ...input, nonce });
  }

  /** A cloud verifier's token about a TDX guest; `claims` override the good ones. */
  function verifierToken(claims: Record<string, unknown> = {}, iat?: number): Promise<string> {
    return mintToken(
      verifier,
      { platform: "tdx", measurement: TOKEN_MEASUREMENT, debug: false, tcb: "UpToDate", ...claims },
      { iss: VERIFIER, aud: "verigate", ...(iat === undefined ? {} : { iat, lifetime: 3600 }) },
    );
  }

  it("debug-mode TEE claims: a debug guest's genuine evidence, a verifier's token, and a vouched certificate", async () => {
    // Control: the same sources, debug off, are believed.
    const good = await expectForwarded(h, call(alice, await boundEvidence(alice)));
    expect(good.tee).toMatchObject({
      measurement: SNP_MEASUREMENT,
      debug: false,
      issuer: "snp-hw",
      boundToClientCert: true,
    });
    const evidence = await expectDenied(
      h,
      call(alice, await boundEvidence(alice, { debug: true })),
      403,
      DENIED_BY_DEBUG,
    );
    expect(evidence).toMatchObject({ teeIssuer: "snp-hw", teeMeasurement: SNP_MEASUREMENT });
    const token = await expectDenied(
      h,
      call(alice, { "x-attestation-token": await verifierToken({ debug: true }) }),
      403,
      DENIED_BY_DEBUG,
    );
    expect(token).toMatchObject({ teeIssuer: "cloud-verifier", teeMeasurement: TOKEN_MEASUREMENT });
    const certificate = await expectDenied(h, call(h.pki.clients.teeDebug), 403, DENIED_BY_DEBUG);
    expect(certificate).toMatchObject({ teeIssuer: "attest-ca" });
    // A debug flag written as a string is no boolean: the token is refused outright, never read as false.
    await expectDenied(
      h,
      call(alice, { "x-attestation-token": await verifierToken({ debug: "false" }) }),
      401,
      ["attestation-invalid"],
    );
  });

  it("a measurement not on the list, including near misses of a listed one", async () => {
    const unlisted = await expectDenied(
      h,
      call(alice, await boundEvidence(alice, { measurement: sha384("an image nobody approved") })),
      403,
      ["no-matching-rule", "measurement-not-allowed"],
    );
    expect(unlisted.teeIssuer).toBe("snp-hw");
    const oneNibble = `${TOKEN_MEASUREMENT.slice(0, -1)}${TOKEN_MEASUREMENT.endsWith("0") ? "1" : "0"}`;
    for (const measurement of [
      oneNibble,
      `${TOKEN_MEASUREMENT}00`,
      TOKEN_MEASUREMENT.slice(0, 64),
    ]) {
      const line = await expectDenied(
        h,
        call(alice, { "x-attestation-token": await verifierToken({ measurement }) }),
        403,
        ["no-matching-rule", "measurement-not-allowed"],
      );
      expect(line.teeMeasurement).toBe(measurement);
    }
  });

  it("evidence not bound to the presenting client's key: another key, no nonce, or the nonce-less in-certificate binding", async () => {
    const stranger = await makeAttestedKey();
    const nonce = await newNonce(h);
    const otherKey = await makeSnpReport({
      measurement: SNP_MEASUREMENT,
      reportData: bindingOf(nonce, stranger.spki),
    });
    const line = await expectDenied(
      h,
      call(alice, evidenceHeader({ platform: "sev-snp", ...otherKey, nonce })),
      401,
      ["evidence-not-bound"],
    );
    expect(line.teeMeasurement).toBeUndefined();
    // Genuine evidence with no nonce: this issuer demands binding.
    const unbound = await makeSnpReport({ measurement: SNP_MEASUREMENT });
    await expectDenied(h, call(alice, evidenceHeader({ platform: "sev-snp", ...unbound })), 401, [
      "evidence-not-bound",
    ]);
    // Report data binding alice's key the way certificate evidence does (no nonce),
    // with a fresh nonce named beside it: not verigate's binding of that nonce.
    const nonce2 = await newNonce(h);
    const keyOnly = await makeSnpReport({
      measurement: SNP_MEASUREMENT,
      reportData: createHash("sha512").update(spkiOf(alice)).digest(),
    });
    await expectDenied(
      h,
      call(alice, evidenceHeader({ platform: "sev-snp", ...keyOnly, nonce: nonce2 })),
      401,
      ["evidence-not-bound"],
    );
  });

  it("evidence bound to another client (bob's, replayed by alice), which bob can still use", async () => {
    const bobs = await boundEvidence(bob);
    await expectDenied(h, call(alice, bobs), 401, ["evidence-not-bound"]);
    // Refused evidence did not burn bob's nonce: bob presenting it is believed, as bob.
    const forwarded = await expectForwarded(h, call(bob, bobs));
    expect(forwarded.tee).toMatchObject({ boundToClientCert: true, issuer: "snp-hw" });
    expect(forwarded.identity).toMatchObject({ commonName: "bob" });
  });

  it("a self-signed RA-TLS style certificate with genuine bound evidence, where no issuer accepts self-signed certificates", async () => {
    const selfSigned = await selfSignedAttested({ measurement: SNP_MEASUREMENT });
    const line = await expectDenied(h, call(selfSigned), 401, ["client-certificate-untrusted"]);
    expect(line.detail).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(line).toMatchObject({ identitySource: "none" });
    expect(line.teeMeasurement).toBeUndefined();
  });

  it("attestation claims in a client certificate from a CA that does not vouch for them, or from a look-alike of the one that does", async () => {
    // Control: the vouching CA's certificate is believed.
    const vouched = await expectForwarded(h, call(h.pki.clients.teeGood));
    expect(vouched.tee).toMatchObject({ issuer: "attest-ca", measurement: TEST_MEASUREMENT });
    // The same claims from the trusted root, which vouches for identities only.
    const rootIssued = await expectDenied(
      h,
      call(h.pki.clients.claimsFromNonVouchingCa),
      403,
      NO_TEE,
    );
    expect(String(rootIssued.notes)).toMatch(/tee\.\* ignored: no attestation issuer vouches/);
    // An intermediate with the vouching CA's exact name and its own key, chained to the trusted root.
    const lookalike = await h.pki.ca.issueIntermediate(
      h.pki.attestationCa.certificate.subject.replace(/^CN=/, ""),
    );
    expect(lookalike.certificate.subject).toBe(h.pki.attestationCa.certificate.subject);
    const forged = await lookalike.issue({
      commonName: "payroll-vm",
      organization: "Corp Test",
      uris: ["spiffe://corp.test/workload/payroll"],
      claims: TEST_TEE_CLAIMS,
    });
    // The client even sends the genuine vouching CA's certificate along.
    const withGenuineCa = {
      ...forged,
      chainPem: `${forged.chainPem}${h.pki.attestationCa.certPem}`,
    };
    for (const as of [forged, withGenuineCa]) {
      const line = await expectDenied(h, call(as), 403, NO_TEE);
      expect(line).toMatchObject({ identitySource: "certificate" });
      expect(line.teeIssuer).toBeUndefined();
      expect(String(line.notes)).toMatch(/tee\.\* ignored/);
    }
  });

  it("a client-supplied x-verigate-attestation: unsigned, signed by another key, minted by another verigate, or an upstream assertion", async () => {
    // Control: a token this gateway minted for alice's bound evidence is believed.
    const own = await exchange(h, alice);
    const control = await expectForwarded(h, call(alice, { "x-verigate-attestation": own }));
    expect(control.tee).toMatchObject({ measurement: SNP_MEASUREMENT, boundToClientCert: true });

    const [, ownPayload] = own.split(".");
    const claims = JSON.parse(
      Buffer.from(ownPayload ?? "", "base64url").toString("utf8"),
    ) as Record<string, unknown>;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${ownPayload}.`;
    // verigate's own claim layout, for alice, signed by a key the attacker made.
    const attackerKey = await createSigningKey("ES256", "verigate");
    const signedByAttacker = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", typ: "JWT" })
      .sign(attackerKey.privateKey);
    // A genuine token from another verigate (same PKI, same evidence issuer, its own key).
    const twin = await attestationGateway(verifier);
    let foreign: string;
    try {
      foreign = await exchange(twin, alice);
    } finally {
      await twin.close();
    }
    // verigate's own signature, but on an upstream assertion (leaked by an upstream), not an attestation token.
    const before = h.upstream.seen.length;
    await expectForwarded(h, call(alice, { "x-verigate-attestation": own }));
    const leakedAssertion = String(h.upstream.seen[before]?.headers["x-verigate-assertion"]);
    for (const token of [unsigned, signedByAttacker, foreign, leakedAssertion]) {
      const line = await expectDenied(h, call(alice, { "x-verigate-attestation": token }), 401, [
        "token-invalid",
      ]);
      expect(line.teeMeasurement).toBeUndefined();
    }
  });

  // Found by this suite: the evidence header was neither verified nor consumed beside
  // verigate's own token, and reached the upstream. Two TEE statements are now refused.
  it("forged evidence smuggled in x-tee-evidence beside a genuine x-verigate-attestation", async () => {
    const own = await exchange(h, alice);
    // Evidence that would fail verification on its own, claiming a debug-free, listed guest.
    const forged = evidenceHeader({
      platform: "sev-snp",
      evidence: Buffer.from("not an attestation report, but upstream may read it as one"),
      certs: [],
    });
    const before = h.upstream.seen.length;
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      ...call(alice, { "x-verigate-attestation": own, ...forged }),
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(res.status).toBe(400);
    expect(line).toMatchObject({ decision: "deny", reasons: ["malformed-request"] });
    expect(line.detail).toBe("both x-verigate-attestation and x-tee-evidence: send one");
    expect(h.upstream.seen.length).toBe(before);
  });

  it("an attestation token older than the issuer's maxAge (still within its exp)", async () => {
    const old = await verifierToken({}, Math.floor(Date.now() / 1000) - (MAX_AGE_MINUTES + 5) * 60);
    const line = await expectDenied(h, call(alice, { "x-attestation-token": old }), 401, [
      "token-too-old",
    ]);
    expect(String(line.detail)).toMatch(/^cloud-verifier: /);
    // Control: the same token, fresh, is believed.
    const fresh = await expectForwarded(
      h,
      call(alice, { "x-attestation-token": await verifierToken() }),
    );
    expect(fresh.tee).toMatchObject({
      issuer: "cloud-verifier",
      measurement: TOKEN_MEASUREMENT,
      tcbStatus: "UpToDate",
    });
  });

  it("a TCB out of date: a VCEK below the minimum, a report claiming more TCB than its VCEK certifies, a verifier saying so", async () => {
    const chain = await getSnpTestChain();
    const base = defaultTestTcb("Milan");
    const olderVek = await chain.issueVek({ tcb: { ...base, snp: base.snp - 1 } });
    const old = await expectDenied(
      h,
      call(alice, await boundEvidence(alice, { vek: olderVek })),
      403,
      ["no-matching-rule", "tcb-out-of-date"],
    );
    expect(old).toMatchObject({ teeIssuer: "snp-hw", teeMeasurement: SNP_MEASUREMENT });
    // The guest reports the minimum TCB, but its VCEK certifies the older one: a lie the signature chain exposes.
    await expectDenied(
      h,
      call(alice, await boundEvidence(alice, { vek: olderVek, reportedTcb: base })),
      401,
      ["evidence-invalid"],
    );
    await expectDenied(
      h,
      call(alice, { "x-attestation-token": await verifierToken({ tcb: "OutOfDate" }) }),
      403,
      ["no-matching-rule", "tcb-out-of-date"],
    );
  });
});

/** POST /.well-known/verigate/attest with SEV-SNP evidence bound to `as`: the token `h` mints. */
async function exchange(h: GatewayHarness, as: IssuedCertificate): Promise<string> {
  const nonce = await newNonce(h);
  const input = await makeSnpReport({
    measurement: SNP_MEASUREMENT,
    reportData: bindingOf(nonce, spkiOf(as)),
  });
  const res = await mtlsRequest({
    port: h.port,
    pki: h.pki,
    as,
    method: "POST",
    path: "/.well-known/verigate/attest",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(envelopeOf({ platform: "sev-snp", ...input, nonce })),
  });
  expect(res.status).toBe(200);
  return res.json<{ token: string }>().token;
}

/** /work/shared/vectors/, seen from test/security/ (read in place, never copied). */
const VECTORS = new URL("../../../shared/vectors/", import.meta.url);
const vector = (path: string): Buffer => readFileSync(new URL(path, VECTORS));

/** Clocks at which each vector's certificates are valid (as verifies-real-vendor-evidence-through-the-proxy uses them). */
const JUNE_2025 = Date.parse("2025-06-01T00:00:00Z");
const JUNE_2023 = Date.parse("2023-06-20T00:00:00Z");
const NITRO_TIME = Date.parse("2024-09-07T14:37:39.545Z");

/** virtee's Milan report: a non-debug guest. */
const VIRTEE_MEASUREMENT =
  "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f";

const virteeMilan = (): EnvelopeParts => ({
  platform: "sev-snp",
  evidence: Buffer.from(
    vector("sev-snp/virtee-sev/report_milan.hex").toString("utf8").replace(/\s+/g, ""),
    "hex",
  ),
  certs: [vector("sev-snp/virtee-sev/vcek_milan.der")],
});
/** go-sev-guest's report: a debug guest (SEV-SNP policy bit 19). */
const goSevGuest = (): EnvelopeParts => ({
  platform: "sev-snp",
  evidence: vector("sev-snp/go-sev-guest/attestation.bin"),
  certs: [vector("sev-snp/go-sev-guest/vcek.der")],
});
/** trustee's debug TD (TD attribute bit 0). */
const trusteeDebugTd = (): EnvelopeParts => ({
  platform: "tdx",
  evidence: vector("tdx/trustee/tdx_quote_4.dat"),
  certs: [],
});
const blockyNitro = (): EnvelopeParts => ({
  platform: "nitro",
  evidence: Buffer.from(
    vector("nitro/blocky-nitrite/nitro_attestation.b64").toString("ascii").trim(),
    "base64",
  ),
  certs: [],
});

/** SEV-SNP report offsets (AMD ABI): POLICY's byte holding bit 19 (DEBUG), REPORT_DATA. */
const SNP_POLICY_DEBUG_BYTE = 0x08 + 2;
const SNP_REPORT_DATA = 0x50;
/** TDX v4 quote: the TD report body follows the 48-byte header; TDATTRIBUTES is at body offset 120 (bit 0: DEBUG). */
const TDX_TD_ATTRIBUTES = 48 + 120;

describe("one flipped bit in real vendor evidence, against the shipped roots", () => {
  let h: GatewayHarness;
  let clock = JUNE_2025;

  beforeAll(async () => {
    h = await startGateway({
      now: () => clock,
      extra: `measurements:
  approved: ["${VIRTEE_MEASUREMENT}"]
issuers:
  - { name: amd, kind: attestation, evidence: sev-snp }
  - { name: intel, kind: attestation, evidence: tdx }
  - { name: aws, kind: attestation, evidence: nitro }
`,
      routes: `routes:
  - name: ${ROUTE}
    match: { host: ${HOST} }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.measurement: { inList: approved }
          tee.debug: false
`,
    });
  });
  afterAll(() => h.close());

  function send(parts: EnvelopeParts, at: number): GatewayRequest {
    clock = at;
    return call(h.pki.clients.alice, evidenceHeader(parts));
  }

  it("a bit flip turning a real debug guest into a non-debug one, or rebinding a real report, or altering its VCEK, a debug TD or a Nitro document", async () => {
    // Controls: the genuine vectors verify; the debug ones are refused for debug, not for their signatures.
    const { tee } = await expectForwarded(h, send(virteeMilan(), JUNE_2025), JUNE_2025);
    expect(tee).toMatchObject({
      platform: "sev-snp",
      measurement: VIRTEE_MEASUREMENT,
      debug: false,
      issuer: "amd",
    });
    await expectDenied(h, send(goSevGuest(), JUNE_2025), 403, [
      "no-matching-rule",
      "measurement-not-allowed",
      "attestation-debug-enabled",
    ]);
    await expectDenied(h, send(trusteeDebugTd(), JUNE_2023), 403, [
      "no-matching-rule",
      "measurement-not-allowed",
      "attestation-debug-enabled",
    ]);

    const snpDebug = goSevGuest();
    const virtee = virteeMilan();
    const td = trusteeDebugTd();
    const nitro = blockyNitro();
    const flipped: readonly (readonly [string, EnvelopeParts, number])[] = [
      [
        "go-sev-guest, policy DEBUG cleared",
        { ...snpDebug, evidence: flipBit(snpDebug.evidence, SNP_POLICY_DEBUG_BYTE, 3) },
        JUNE_2025,
      ],
      [
        "virtee, report data altered",
        { ...virtee, evidence: flipBit(virtee.evidence, SNP_REPORT_DATA) },
        JUNE_2025,
      ],
      [
        "virtee, VCEK altered",
        { ...virtee, certs: [flipBit(virtee.certs?.[0] ?? Buffer.alloc(0), 0x100)] },
        JUNE_2025,
      ],
      [
        "trustee, TD DEBUG attribute cleared",
        { ...td, evidence: flipBit(td.evidence, TDX_TD_ATTRIBUTES, 0) },
        JUNE_2023,
      ],
      [
        "blocky, COSE signature altered",
        { ...nitro, evidence: flipBit(nitro.evidence, nitro.evidence.length - 1) },
        NITRO_TIME,
      ],
    ];
    for (const [what, parts, at] of flipped) {
      const line = await expectDenied(h, send(parts, at), 401, ["evidence-invalid"]);
      expect(line.teeMeasurement, what).toBeUndefined();
      expect(String(line.detail), what).toMatch(/^(amd|intel|aws): /);
    }
  });
});

describe("a self-signed RA-TLS certificate copying alice's names, where an evidence issuer accepts self-signed certificates", () => {
  let h: GatewayHarness;

  beforeAll(async () => {
    h = await startGateway({
      files: { "snp-test-ark.pem": (await getSnpTestChain()).arkPem },
      extra: `issuers:
  - name: snp-hw
    kind: attestation
    evidence: sev-snp
    roots: [snp-test-ark.pem]
    acceptSelfSignedCertificates: true
`,
      // A route for alice alone, written before (or without thought of) attested TLS.
      routes: `routes:
  - name: alice-only
    match: { host: ${HOST} }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: spiffe://corp.test/user/alice
`,
    });
  });
  afterAll(() => h.close());

  // Found by this suite: a self-signed certificate accepted through its TEE evidence
  // kept every name it stated about itself, which no CA vouched for. Now its identity
  // is `source: attestation` and its fingerprint, nothing else.
  it("impersonation through attested TLS: the certificate's own names must not pass for alice's", async () => {
    // A debug guest (any TEE will do), its certificate carrying alice's SANs: her
    // email, DNS name and SPIFFE ID.
    const aliceSan = h.pki.clients.alice.certificate.getExtension("2.5.29.17");
    expect(aliceSan).not.toBeNull();
    const impostor = await selfSignedAttested({ debug: true }, [
      { oid: "2.5.29.17", value: new Uint8Array(aliceSan?.value ?? new ArrayBuffer(0)) },
    ]);
    const before = h.upstream.seen.length;
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: impostor,
      host: HOST,
      path: "/alice/inbox",
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(h.upstream.seen.length, "the upstream received a request as alice").toBe(before);
    expect(res.status).toBe(403);
    expect(line).toMatchObject({ decision: "deny", identitySource: "attestation" });
    expect(line.spiffeId).toBeUndefined();
    expect(line.subject).toBeUndefined();
  });
});
