/**
 * The PKI every integration test uses, generated in memory at test start (no key is
 * ever committed). One PKI per worker process: `createTestPki()` is memoized, so
 * tests share it and must not depend on anything but its contents.
 *
 * Trust layout:
 * - `ca` is the only trust anchor for client certificates (`clients-ca.pem`).
 * - `intermediate` is issued by `ca`; it is NOT a trust anchor. `viaIntermediate`
 *   presents it: its `chainPem` (and its file) holds leaf + intermediate, so the
 *   listener must build the chain from what the client sends.
 * - `otherCa` is trusted by nobody; `fromOtherCa` impersonates alice from it.
 * - `attestationCa` is a second intermediate issued by `ca` (not a trust anchor
 *   either): the CA a test's posture and attestation issuers name as `ca`. It issues
 *   the clients carrying device and TEE claims (`teeGood` ...), which present it in
 *   their chain. `claimsFromNonVouchingCa` carries the same claims, issued by `ca`.
 *
 * Revocation, as Node 20 / OpenSSL 3.0 do it: once any CRL is configured, Node sets
 * CRL_CHECK | CRL_CHECK_ALL, so every CA in a verified chain needs a CRL of its own
 * (else `UNABLE_TO_GET_CRL`), and Node's `crl` option reads only the FIRST PEM block
 * of each string or Buffer. Hand Node `crls` (an array), never the CRLs concatenated.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DICE_TCB_INFO_OID } from "../../src/claims/dice-tcb-info.js";
import { VERIGATE_CLAIMS_OID } from "../../src/claims/verigate-claims-extension.js";
import {
  createCertificateAuthority,
  type CertificateAuthority,
  type CertificateClaimsSpec,
  type CertificateSpec,
  type DiceTcbInfoSpec,
  type IssuedCertificate,
} from "../../src/dev-pki/certificate-authority.js";

/** Names of the test client certificates. */
export type TestClientName =
  | "alice"
  | "bob"
  | "expired"
  | "notYetValid"
  | "revoked"
  | "serverOnlyEku"
  | "noEku"
  | "fromOtherCa"
  | "controlCharsInSan"
  | "nulInSan"
  | "viaIntermediate"
  | "teeGood"
  | "teeDebug"
  | "diceGood"
  | "diceDebug"
  | "claimsFromNonVouchingCa"
  | "malformedClaims"
  | "junkClaims"
  | "nvidiaLayout";

/** Every test client name, in a stable order (for table-driven tests). */
export const TEST_CLIENT_NAMES: readonly TestClientName[] = [
  "alice",
  "bob",
  "expired",
  "notYetValid",
  "revoked",
  "serverOnlyEku",
  "noEku",
  "fromOtherCa",
  "controlCharsInSan",
  "nulInSan",
  "viaIntermediate",
  "teeGood",
  "teeDebug",
  "diceGood",
  "diceDebug",
  "claimsFromNonVouchingCa",
  "malformedClaims",
  "junkClaims",
  "nvidiaLayout",
];

/**
 * The TEE measurement the claim-carrying test clients state: SHA-384 of
 * "verigate-test-tee", 96 lowercase hex digits. `teeGood`'s verigate extension and
 * `diceGood`'s first FWID both hold it.
 */
export const TEST_MEASUREMENT = createHash("sha384").update("verigate-test-tee").digest("hex");

/** The verigate claims extension of `teeGood` (and, with `debug: true`, of `teeDebug`). */
export const TEST_TEE_CLAIMS = {
  device: { managed: true, compliant: true, diskEncrypted: true },
  tee: { platform: "sev-snp", measurement: TEST_MEASUREMENT, debug: false, tcbStatus: "UpToDate" },
} as const satisfies CertificateClaimsSpec;

/** The CR/LF-carrying SAN values of `controlCharsInSan`, for assertions. */
export const HOSTILE_SAN = {
  dnsCrlf: "evil.corp.test\r\nx-injected: 1",
  emailCrlf: "mallory@corp.test\r\nx-injected: 1",
  uriCrlf: "spiffe://corp.test/user/mallory\r\nx-injected: 1",
  dnsNul: "alice.devices.corp.test\0.evil.test",
  emailNul: "alice@corp.test\0@evil.test",
  uriNul: "spiffe://corp.test/user/alice\0/evil",
} as const;

/** The in-memory test PKI. */
export interface TestPki {
  /** Root CA: the one trust anchor for client certificates. */
  readonly ca: CertificateAuthority;
  /** A root nobody trusts. */
  readonly otherCa: CertificateAuthority;
  /** Issued by `ca` (pathLength 0); issues `viaIntermediate`. */
  readonly intermediate: CertificateAuthority;
  /** Issued by `ca` (pathLength 0): vouches for device and TEE claims; issues `teeGood` ... */
  readonly attestationCa: CertificateAuthority;
  /**
   * Server certificate from `ca` (EKU serverAuth) for `localhost`, `*.localhost`,
   * `verigate.test`, `*.verigate.test`, 127.0.0.1 and ::1. Clients verify it with
   * `ca: pki.ca.certPem` and `servername: "localhost"` (or any of those names).
   */
  readonly server: IssuedCertificate;
  /**
   * - alice, bob: valid; CN, email `NAME@corp.test`, URI `spiffe://corp.test/user/NAME`,
   *   DNS `NAME.devices.corp.test`, O `Corp Test`. Groups are not in certificates.
   * - expired (notAfter yesterday), notYetValid (notBefore tomorrow), revoked (in
   *   `crlPem`), serverOnlyEku (EKU serverAuth only), noEku (no EKU extension),
   *   viaIntermediate (issued by `intermediate`): same shape, named after themselves
   *   in kebab-case (`not-yet-valid@corp.test` ...).
   * - fromOtherCa: alice's exact subject and SANs, issued by `otherCa`.
   * - controlCharsInSan: CN mallory; DNS, email and URI SANs holding CR LF
   *   (`HOSTILE_SAN.*Crlf`) and a DNS SAN holding NUL (`HOSTILE_SAN.dnsNul`).
   * - nulInSan: CN mallory; only NUL-holding DNS, email and URI SANs (`HOSTILE_SAN.*Nul`).
   * - Claim carriers, shaped like alice and named after themselves in kebab-case
   *   (`tee-good@corp.test` ...), issued by `attestationCa` unless said otherwise:
   *   - teeGood: the verigate claims extension `TEST_TEE_CLAIMS` (device managed,
   *     compliant, diskEncrypted; tee sev-snp, `TEST_MEASUREMENT`, debug false,
   *     tcbStatus UpToDate). teeDebug: the same with tee.debug true.
   *   - diceGood: a DiceTcbInfo (vendor "verigate test", model "test tee", svn 2, one
   *     sha384 FWID = `TEST_MEASUREMENT`, flags present with debug off). diceDebug:
   *     the same with the debug flag on.
   *   - claimsFromNonVouchingCa: `TEST_TEE_CLAIMS`, issued by `ca` instead.
   *   - malformedClaims: the verigate extension with JSON whose tee.debug is the string
   *     "false". junkClaims: the verigate OID holding bytes that are no UTF8String.
   *   - nvidiaLayout: under the DiceTcbInfo OID, NVIDIA's GH100 layout
   *     SEQUENCE { INTEGER 1, SubjectPublicKeyInfo, SEQUENCE { sha384, OCTET STRING } }.
   */
  readonly clients: Readonly<Record<TestClientName, IssuedCertificate>>;
  /** `ca`'s CRL revoking `clients.revoked`. */
  readonly crlPem: string;
  /** `ca`'s CRL revoking nothing. */
  readonly emptyCrlPem: string;
  /** `intermediate`'s CRL revoking nothing (needed for `viaIntermediate` whenever any CRL is set). */
  readonly intermediateCrlPem: string;
  /** `attestationCa`'s CRL revoking nothing (needed for its clients whenever any CRL is set). */
  readonly attestationCrlPem: string;
  /** `[crlPem, intermediateCrlPem, attestationCrlPem]`: what Node's `crl` option needs. */
  readonly crls: readonly string[];
  /** `[emptyCrlPem, intermediateCrlPem, attestationCrlPem]`. */
  readonly emptyCrls: readonly string[];
}

/** Absolute paths written by `writeTestPki`. */
export interface TestPkiFiles {
  readonly dir: string;
  /** `ca` alone: the `tls.clientCAs` file, and what clients verify the server with. */
  readonly clientCAs: string;
  readonly otherCa: string;
  readonly intermediate: string;
  /** `attestationCa`'s certificate alone: the `ca` of a test posture or attestation issuer. */
  readonly attestationCa: string;
  readonly server: { readonly cert: string; readonly key: string };
  /** Each cert file holds the client's `chainPem` (leaf, then any intermediate). */
  readonly clients: Readonly<
    Record<TestClientName, { readonly cert: string; readonly key: string }>
  >;
  /**
   * `crlPem`, `intermediateCrlPem` then `attestationCrlPem`, concatenated in one file
   * as operators write them: a loader that hands it to Node as one string loses all
   * but the first CRL, and `viaIntermediate` then fails with UNABLE_TO_GET_CRL.
   */
  readonly crl: string;
  /** `emptyCrlPem`, `intermediateCrlPem` then `attestationCrlPem`. */
  readonly emptyCrl: string;
}

const DAY_MS = 86_400_000;

let memoized: Promise<TestPki> | undefined;

/** The worker's test PKI, created on first call (about 30 P-256 keys: well under a second). */
export function createTestPki(): Promise<TestPki> {
  memoized ??= buildTestPki();
  return memoized;
}

async function buildTestPki(): Promise<TestPki> {
  const now = Date.now();
  const [ca, otherCa] = await Promise.all([
    createCertificateAuthority({ commonName: "verigate test CA" }),
    createCertificateAuthority({ commonName: "untrusted test CA" }),
  ]);
  const [intermediate, attestationCa] = await Promise.all([
    ca.issueIntermediate("verigate test intermediate CA"),
    ca.issueIntermediate("verigate test attestation CA"),
  ]);

  const [server, alice, bob, expired, notYetValid, revoked, serverOnlyEku, noEku] =
    await Promise.all([
      ca.issue({
        commonName: "localhost",
        organization: "Corp Test",
        dnsNames: ["localhost", "*.localhost", "verigate.test", "*.verigate.test"],
        ips: ["127.0.0.1", "::1"],
        extendedKeyUsage: "serverAuth",
      }),
      ca.issue(person("alice")),
      ca.issue(person("bob")),
      ca.issue({
        ...person("expired"),
        notBefore: new Date(now - 30 * DAY_MS),
        notAfter: new Date(now - DAY_MS),
      }),
      ca.issue({
        ...person("not-yet-valid"),
        notBefore: new Date(now + DAY_MS),
        notAfter: new Date(now + 365 * DAY_MS),
      }),
      ca.issue(person("revoked")),
      ca.issue({ ...person("server-only-eku"), extendedKeyUsage: "serverAuth" }),
      ca.issue({ ...person("no-eku"), extendedKeyUsage: "none" }),
    ]);
  const [fromOtherCa, controlCharsInSan, nulInSan, viaIntermediate] = await Promise.all([
    otherCa.issue(person("alice")),
    ca.issue({
      commonName: "mallory",
      organization: "Corp Test",
      dnsNames: [HOSTILE_SAN.dnsCrlf, HOSTILE_SAN.dnsNul],
      emails: [HOSTILE_SAN.emailCrlf],
      uris: [HOSTILE_SAN.uriCrlf],
    }),
    ca.issue({
      commonName: "mallory",
      organization: "Corp Test",
      dnsNames: [HOSTILE_SAN.dnsNul],
      emails: [HOSTILE_SAN.emailNul],
      uris: [HOSTILE_SAN.uriNul],
    }),
    intermediate.issue(person("via-intermediate")),
  ]);
  const claimCarriers = await issueClaimCarriers(ca, attestationCa);

  const [crlPem, emptyCrlPem, intermediateCrlPem, attestationCrlPem] = await Promise.all([
    ca.createCrl({ revoked: [revoked.serialNumber] }),
    ca.createCrl({ revoked: [] }),
    intermediate.createCrl({ revoked: [] }),
    attestationCa.createCrl({ revoked: [] }),
  ]);

  return {
    ca,
    otherCa,
    intermediate,
    attestationCa,
    server,
    clients: {
      alice,
      bob,
      expired,
      notYetValid,
      revoked,
      serverOnlyEku,
      noEku,
      fromOtherCa,
      controlCharsInSan,
      nulInSan,
      viaIntermediate,
      ...claimCarriers,
    },
    crlPem,
    emptyCrlPem,
    intermediateCrlPem,
    attestationCrlPem,
    crls: [crlPem, intermediateCrlPem, attestationCrlPem],
    emptyCrls: [emptyCrlPem, intermediateCrlPem, attestationCrlPem],
  };
}

type ClaimCarrierName =
  | "teeGood"
  | "teeDebug"
  | "diceGood"
  | "diceDebug"
  | "claimsFromNonVouchingCa"
  | "malformedClaims"
  | "junkClaims"
  | "nvidiaLayout";

async function issueClaimCarriers(
  ca: CertificateAuthority,
  attestationCa: CertificateAuthority,
): Promise<Record<ClaimCarrierName, IssuedCertificate>> {
  const dice = (debug: boolean): DiceTcbInfoSpec => ({
    vendor: "verigate test",
    model: "test tee",
    svn: 2,
    fwids: [{ hashAlg: "sha384", digest: TEST_MEASUREMENT }],
    debug,
  });
  const malformedJson = JSON.stringify({
    device: { managed: true },
    tee: { ...TEST_TEE_CLAIMS.tee, debug: "false" },
  });
  const [teeGood, teeDebug, diceGood, diceDebug, claimsFromNonVouchingCa] = await Promise.all([
    attestationCa.issue({ ...person("tee-good"), claims: TEST_TEE_CLAIMS }),
    attestationCa.issue({
      ...person("tee-debug"),
      claims: { ...TEST_TEE_CLAIMS, tee: { ...TEST_TEE_CLAIMS.tee, debug: true } },
    }),
    attestationCa.issue({ ...person("dice-good"), diceTcbInfo: dice(false) }),
    attestationCa.issue({ ...person("dice-debug"), diceTcbInfo: dice(true) }),
    ca.issue({ ...person("claims-from-non-vouching-ca"), claims: TEST_TEE_CLAIMS }),
  ]);
  const spki = new Uint8Array(attestationCa.certificate.publicKey.rawData);
  const [malformedClaims, junkClaims, nvidiaLayout] = await Promise.all([
    attestationCa.issue({
      ...person("malformed-claims"),
      rawExtensions: [{ oid: VERIGATE_CLAIMS_OID, value: der(0x0c, Buffer.from(malformedJson)) }],
    }),
    attestationCa.issue({
      ...person("junk-claims"),
      rawExtensions: [{ oid: VERIGATE_CLAIMS_OID, value: Buffer.from("ff00c0ffee7b7d", "hex") }],
    }),
    attestationCa.issue({
      ...person("nvidia-layout"),
      rawExtensions: [
        {
          oid: DICE_TCB_INFO_OID,
          value: der(
            0x30,
            der(0x02, Buffer.from([1])),
            spki,
            der(
              0x30,
              der(0x06, Buffer.from("608648016503040202", "hex")),
              der(0x04, Buffer.from(TEST_MEASUREMENT, "hex")),
            ),
          ),
        },
      ],
    }),
  ]);
  return {
    teeGood,
    teeDebug,
    diceGood,
    diceDebug,
    claimsFromNonVouchingCa,
    malformedClaims,
    junkClaims,
    nvidiaLayout,
  };
}

/**
 * One DER element (lengths below 64 KiB) from its identifier octet and content
 * parts: enough for hand-made test extensions, well-formed or not.
 */
export function der(tag: number, ...contents: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const content = Buffer.concat(contents);
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return new Uint8Array(Buffer.concat([Buffer.from([tag, ...length]), content]));
}

function person(name: string): CertificateSpec {
  return {
    commonName: name,
    organization: "Corp Test",
    emails: [`${name}@corp.test`],
    uris: [`spiffe://corp.test/user/${name}`],
    dnsNames: [`${name}.devices.corp.test`],
  };
}

/** camelCase client name -> kebab-case file stem (`notYetValid` -> `not-yet-valid`). */
function fileStem(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Writes the PKI's PEMs into `dir` (created if missing; pass a fresh temp folder)
 * so a real config file can name them. Keys get mode 0600. Returns absolute paths.
 */
export async function writeTestPki(pki: TestPki, dir: string): Promise<TestPkiFiles> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const at = (file: string): string => join(root, file);

  const clients = Object.fromEntries(
    TEST_CLIENT_NAMES.map((name) => [
      name,
      { cert: at(`${fileStem(name)}.pem`), key: at(`${fileStem(name)}-key.pem`) },
    ]),
  ) as Record<TestClientName, { cert: string; key: string }>;
  const files: TestPkiFiles = {
    dir: root,
    clientCAs: at("clients-ca.pem"),
    otherCa: at("other-ca.pem"),
    intermediate: at("intermediate.pem"),
    attestationCa: at("attestation-ca.pem"),
    server: { cert: at("server.pem"), key: at("server-key.pem") },
    clients,
    crl: at("clients.crl"),
    emptyCrl: at("clients-empty.crl"),
  };

  const writes: Promise<void>[] = [
    writeFile(files.clientCAs, pki.ca.certPem),
    writeFile(files.otherCa, pki.otherCa.certPem),
    writeFile(files.intermediate, pki.intermediate.certPem),
    writeFile(files.attestationCa, pki.attestationCa.certPem),
    writeFile(files.server.cert, pki.server.chainPem),
    writeFile(files.server.key, pki.server.keyPem, { mode: 0o600 }),
    writeFile(files.crl, pki.crlPem + pki.intermediateCrlPem + pki.attestationCrlPem),
    writeFile(files.emptyCrl, pki.emptyCrlPem + pki.intermediateCrlPem + pki.attestationCrlPem),
  ];
  for (const name of TEST_CLIENT_NAMES) {
    writes.push(
      writeFile(clients[name].cert, pki.clients[name].chainPem),
      writeFile(clients[name].key, pki.clients[name].keyPem, { mode: 0o600 }),
    );
  }
  await Promise.all(writes);
  return files;
}
