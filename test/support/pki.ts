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
 *
 * Revocation, as Node 20 / OpenSSL 3.0 do it: once any CRL is configured, Node sets
 * CRL_CHECK | CRL_CHECK_ALL, so every CA in a verified chain needs a CRL of its own
 * (else `UNABLE_TO_GET_CRL`), and Node's `crl` option reads only the FIRST PEM block
 * of each string or Buffer. Hand Node `crls` (an array), never the CRLs concatenated.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  createCertificateAuthority,
  type CertificateAuthority,
  type CertificateSpec,
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
  | "viaIntermediate";

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
];

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
   */
  readonly clients: Readonly<Record<TestClientName, IssuedCertificate>>;
  /** `ca`'s CRL revoking `clients.revoked`. */
  readonly crlPem: string;
  /** `ca`'s CRL revoking nothing. */
  readonly emptyCrlPem: string;
  /** `intermediate`'s CRL revoking nothing (needed for `viaIntermediate` whenever any CRL is set). */
  readonly intermediateCrlPem: string;
  /** `[crlPem, intermediateCrlPem]`: what Node's `crl` option needs. */
  readonly crls: readonly string[];
  /** `[emptyCrlPem, intermediateCrlPem]`. */
  readonly emptyCrls: readonly string[];
}

/** Absolute paths written by `writeTestPki`. */
export interface TestPkiFiles {
  readonly dir: string;
  /** `ca` alone: the `tls.clientCAs` file, and what clients verify the server with. */
  readonly clientCAs: string;
  readonly otherCa: string;
  readonly intermediate: string;
  readonly server: { readonly cert: string; readonly key: string };
  /** Each cert file holds the client's `chainPem` (leaf, then any intermediate). */
  readonly clients: Readonly<
    Record<TestClientName, { readonly cert: string; readonly key: string }>
  >;
  /**
   * `crlPem` then `intermediateCrlPem`, concatenated in one file as operators write
   * them: a loader that hands it to Node as one string loses the second CRL, and
   * `viaIntermediate` then fails with UNABLE_TO_GET_CRL.
   */
  readonly crl: string;
  /** `emptyCrlPem` then `intermediateCrlPem`. */
  readonly emptyCrl: string;
}

const DAY_MS = 86_400_000;

let memoized: Promise<TestPki> | undefined;

/** The worker's test PKI, created on first call (about 20 P-256 keys: well under a second). */
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
  const intermediate = await ca.issueIntermediate("verigate test intermediate CA");

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

  const [crlPem, emptyCrlPem, intermediateCrlPem] = await Promise.all([
    ca.createCrl({ revoked: [revoked.serialNumber] }),
    ca.createCrl({ revoked: [] }),
    intermediate.createCrl({ revoked: [] }),
  ]);

  return {
    ca,
    otherCa,
    intermediate,
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
    },
    crlPem,
    emptyCrlPem,
    intermediateCrlPem,
    crls: [crlPem, intermediateCrlPem],
    emptyCrls: [emptyCrlPem, intermediateCrlPem],
  };
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
    server: { cert: at("server.pem"), key: at("server-key.pem") },
    clients,
    crl: at("clients.crl"),
    emptyCrl: at("clients-empty.crl"),
  };

  const writes: Promise<void>[] = [
    writeFile(files.clientCAs, pki.ca.certPem),
    writeFile(files.otherCa, pki.otherCa.certPem),
    writeFile(files.intermediate, pki.intermediate.certPem),
    writeFile(files.server.cert, pki.server.chainPem),
    writeFile(files.server.key, pki.server.keyPem, { mode: 0o600 }),
    writeFile(files.crl, pki.crlPem + pki.intermediateCrlPem),
    writeFile(files.emptyCrl, pki.emptyCrlPem + pki.intermediateCrlPem),
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
