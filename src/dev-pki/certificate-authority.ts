/**
 * A small in-memory certificate authority for `verigate dev-pki`, the quick start and
 * the tests. It is not a production CA: keys live in memory and are handed back as PEM.
 *
 * Everything it makes must be accepted by Node's `tls` (OpenSSL 3), so every
 * certificate carries subject and authority key identifiers (OpenSSL uses them to
 * build chains and to match CRLs to their issuer), and every CRL carries the
 * issuer's authority key identifier and a CRL number (RFC 5280 section 5.2).
 */
import { webcrypto } from "node:crypto";
import { x509 } from "../crypto/x509.js";

/** ECDSA P-256 with SHA-256: fast to generate, accepted everywhere OpenSSL 3 is. */
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

/** OID of the CRL number extension (RFC 5280 section 5.2.3). */
const CRL_NUMBER_OID = "2.5.29.20";

/**
 * Which extended key usages a certificate carries. `"none"` leaves the EKU extension
 * out entirely (which OpenSSL treats as "any purpose").
 */
export type ExtendedKeyUsageChoice = "clientAuth" | "serverAuth" | "both" | "none";

/** What to put in a leaf certificate. Every list may be empty or left out. */
export interface CertificateSpec {
  readonly commonName: string;
  readonly organization?: string;
  /** rfc822Name SANs. */
  readonly emails?: readonly string[];
  readonly dnsNames?: readonly string[];
  /** IPv4 or IPv6 addresses, as text. */
  readonly ips?: readonly string[];
  /** URI SANs, e.g. a `spiffe://` SPIFFE ID. */
  readonly uris?: readonly string[];
  /** Default: one minute ago, so a freshly issued certificate survives small clock steps. */
  readonly notBefore?: Date;
  /** Default: one year after now. */
  readonly notAfter?: Date;
  /** Default `"clientAuth"`. */
  readonly extendedKeyUsage?: ExtendedKeyUsageChoice;
  /** Added after the standard extensions, e.g. the verigate claims extension. */
  readonly extraExtensions?: readonly x509.Extension[];
}

/** A certificate with its private key. */
export interface IssuedCertificate {
  /** This certificate alone, PEM. */
  readonly certPem: string;
  /**
   * This certificate followed by every intermediate CA certificate between it and the
   * root (the root excluded): what a TLS peer should send. Equal to `certPem` for a
   * certificate issued directly by a root.
   */
  readonly chainPem: string;
  /** PKCS#8 PEM. Made at run time only; never write it anywhere that is committed. */
  readonly keyPem: string;
  readonly certificate: x509.X509Certificate;
  /** Lowercase hex, without a leading zero byte: as `certificate.serialNumber`. */
  readonly serialNumber: string;
}

/** Validity and path length of an intermediate CA. */
export interface IntermediateOptions {
  /** Default: one minute ago. */
  readonly notBefore?: Date;
  /** Default: ten years after now. */
  readonly notAfter?: Date;
  /** basicConstraints pathLenConstraint. Default 0: it may issue leaves only. */
  readonly pathLength?: number;
}

/** Contents of a CRL. */
export interface CrlOptions {
  /** Serial numbers (hex, as `IssuedCertificate.serialNumber`) to list as revoked. */
  readonly revoked: readonly string[];
  /** Default: one minute ago. Also used as every entry's revocation date. */
  readonly thisUpdate?: Date;
  /** Default: one year after `thisUpdate`. */
  readonly nextUpdate?: Date;
}

/** A CA that can issue leaves, intermediate CAs and CRLs. */
export interface CertificateAuthority extends IssuedCertificate {
  /** Issues a leaf certificate (basicConstraints CA:false). */
  issue(spec: CertificateSpec): Promise<IssuedCertificate>;
  /** Issues a subordinate CA whose subject CN is `name`. */
  issueIntermediate(name: string, opts?: IntermediateOptions): Promise<CertificateAuthority>;
  /**
   * Signs a CRL and returns it as PEM. CRL numbers increase by one per call on the
   * same CA, as RFC 5280 requires of successive CRLs.
   */
  createCrl(opts: CrlOptions): Promise<string>;
}

/** Options of a root CA. */
export interface RootCaOptions {
  readonly commonName: string;
  /** Default: one minute ago. */
  readonly notBefore?: Date;
  /** Default: ten years after now. */
  readonly notAfter?: Date;
}

/** The CA's own view of itself: what issuing needs and callers must not see. */
interface SigningIdentity {
  readonly certificate: x509.X509Certificate;
  readonly privateKey: CryptoKey;
  readonly keyId: string;
  /**
   * What a certificate issued by this CA appends to itself in its `chainPem`: this
   * CA and the CAs above it, the root excluded (so empty for a root).
   */
  readonly issuerChainPem: string;
}

/**
 * Creates a self-signed root CA (basicConstraints CA:true critical, keyUsage
 * keyCertSign + cRLSign critical).
 */
export async function createCertificateAuthority(
  opts: RootCaOptions,
): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const skid = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [opts.commonName] }],
    notBefore: opts.notBefore ?? new Date(now - MINUTE_MS),
    notAfter: opts.notAfter ?? new Date(now + 10 * YEAR_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [...caExtensions(undefined), skid],
  });
  const certPem = toPem(certificate.rawData, "CERTIFICATE");
  return makeAuthority(
    { certificate, privateKey: keys.privateKey, keyId: skid.keyId, issuerChainPem: "" },
    certPem,
    await exportKeyPem(keys.privateKey),
  );
}

function makeAuthority(
  self: SigningIdentity,
  certPem: string,
  keyPem: string,
): CertificateAuthority {
  // Each CA numbers its own CRLs; a verifier may prefer the highest number it has seen.
  let nextCrlNumber = 1;
  return {
    certPem,
    // A root is never sent (peers must already trust it), an intermediate is.
    chainPem: self.issuerChainPem === "" ? certPem : self.issuerChainPem,
    keyPem,
    certificate: self.certificate,
    serialNumber: self.certificate.serialNumber,

    issue: (spec) => issueLeaf(self, spec),

    async issueIntermediate(name, intermediateOpts = {}) {
      const keys = await generateKeyPair();
      const skid = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
      const now = Date.now();
      const certificate = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerialNumber(),
        subject: [{ CN: [name] }],
        issuer: self.certificate.subjectName,
        notBefore: intermediateOpts.notBefore ?? new Date(now - MINUTE_MS),
        notAfter: intermediateOpts.notAfter ?? new Date(now + 10 * YEAR_MS),
        publicKey: keys.publicKey,
        signingKey: self.privateKey,
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [
          ...caExtensions(intermediateOpts.pathLength ?? 0),
          skid,
          new x509.AuthorityKeyIdentifierExtension(self.keyId),
        ],
      });
      const intermediatePem = toPem(certificate.rawData, "CERTIFICATE");
      return makeAuthority(
        {
          certificate,
          privateKey: keys.privateKey,
          keyId: skid.keyId,
          issuerChainPem: `${intermediatePem}${self.issuerChainPem}`,
        },
        intermediatePem,
        await exportKeyPem(keys.privateKey),
      );
    },

    async createCrl(crlOpts) {
      const thisUpdate = crlOpts.thisUpdate ?? new Date(Date.now() - MINUTE_MS);
      const nextUpdate = crlOpts.nextUpdate ?? new Date(thisUpdate.getTime() + YEAR_MS);
      const crlNumber = nextCrlNumber++;
      const crl = await x509.X509CrlGenerator.create({
        issuer: self.certificate.subjectName,
        thisUpdate,
        nextUpdate,
        signingKey: self.privateKey,
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [
          new x509.AuthorityKeyIdentifierExtension(self.keyId),
          new x509.Extension(CRL_NUMBER_OID, false, encodeDerInteger(crlNumber)),
        ],
        entries: crlOpts.revoked.map((serialNumber) => ({
          serialNumber,
          revocationDate: thisUpdate,
          // Without a reason, @peculiar/x509 2.2 writes an empty crlEntryExtensions
          // SEQUENCE, which DER forbids (SIZE (1..MAX)); OpenSSL tolerates it, stricter
          // parsers need not. Any reason other than removeFromCRL revokes alike.
          reason: x509.X509CrlReason.keyCompromise,
        })),
      });
      // Not crl.toString("pem"): @peculiar/x509 2.2 labels it "BEGIN CRL", which
      // OpenSSL (and so Node's `crl` option) refuses to read; it wants "X509 CRL".
      return toPem(crl.rawData, "X509 CRL");
    },
  };
}

async function issueLeaf(
  issuer: SigningIdentity,
  spec: CertificateSpec,
): Promise<IssuedCertificate> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  ];
  const eku = extendedKeyUsages(spec.extendedKeyUsage ?? "clientAuth");
  if (eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
  const names = subjectAltNames(spec);
  // RFC 5280: an empty SAN extension is not allowed; leave it out instead.
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  extensions.push(
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    new x509.AuthorityKeyIdentifierExtension(issuer.keyId),
    ...(spec.extraExtensions ?? []),
  );

  const subject: x509.JsonName = [];
  if (spec.organization !== undefined) subject.push({ O: [spec.organization] });
  subject.push({ CN: [spec.commonName] });

  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject,
    issuer: issuer.certificate.subjectName,
    notBefore: spec.notBefore ?? new Date(now - MINUTE_MS),
    notAfter: spec.notAfter ?? new Date(now + YEAR_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  const certPem = toPem(certificate.rawData, "CERTIFICATE");
  return {
    certPem,
    chainPem: `${certPem}${issuer.issuerChainPem}`,
    keyPem: await exportKeyPem(keys.privateKey),
    certificate,
    serialNumber: certificate.serialNumber,
  };
}

function caExtensions(pathLength: number | undefined): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

function extendedKeyUsages(choice: ExtendedKeyUsageChoice): string[] {
  switch (choice) {
    case "clientAuth":
      return [x509.ExtendedKeyUsage.clientAuth];
    case "serverAuth":
      return [x509.ExtendedKeyUsage.serverAuth];
    case "both":
      return [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
    case "none":
      return [];
  }
}

function subjectAltNames(spec: CertificateSpec): x509.JsonGeneralNames {
  // Values go in as given, control characters included: the tests need certificates
  // that carry hostile SANs, and @peculiar/x509 encodes them without complaint.
  return [
    ...(spec.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(spec.emails ?? []).map((value) => ({ type: "email" as const, value })),
    ...(spec.ips ?? []).map((value) => ({ type: "ip" as const, value })),
    ...(spec.uris ?? []).map((value) => ({ type: "url" as const, value })),
  ];
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  // Extractable: the private key is handed back as PEM for Node's tls to load.
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
}

async function exportKeyPem(privateKey: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey("pkcs8", privateKey), "PRIVATE KEY");
}

/**
 * PEM with a trailing newline, so that PEMs concatenate into valid bundles (the
 * library's own output ends at the dashes).
 */
function toPem(der: ArrayBuffer, label: string): string {
  return `${x509.PemConverter.encode(der, label).trimEnd()}\n`;
}

/**
 * 16 random bytes with the top bit clear (a positive INTEGER without a padding
 * byte) and the next bit set (no leading zero byte to strip), so the hex form is
 * always 32 digits and round-trips through `X509Certificate.serialNumber`.
 */
function randomSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return Buffer.from(bytes).toString("hex");
}

/** DER INTEGER for a small non-negative number (the CRL number). */
function encodeDerInteger(value: number): Uint8Array<ArrayBuffer> {
  const hex = value.toString(16);
  let content = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
  // A set top bit would make the INTEGER negative: pad with a zero byte.
  if ((content[0] ?? 0) & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return new Uint8Array([0x02, content.length, ...content]);
}
