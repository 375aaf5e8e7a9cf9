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
import { DER_TAG, DerReader, readSingle } from "../claims/der-reader.js";
import { DICE_TCB_INFO_OID } from "../claims/dice-tcb-info.js";
import { VERIGATE_CLAIMS_OID } from "../claims/verigate-claims-extension.js";
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
  /** The key pair to certify (ECDSA P-256, extractable); default a new one. */
  readonly keys?: CryptoKeyPair;
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
  /**
   * Device and TEE claims: emits the verigate claims extension (non-critical, a DER
   * UTF8String holding `{"device": {...}, "tee": {...}}`). Values go in as given,
   * unchecked, so tests can also issue wrongly typed claims.
   */
  readonly claims?: CertificateClaimsSpec;
  /** Emits a TCG DICE TcbInfo extension (non-critical). */
  readonly diceTcbInfo?: DiceTcbInfoSpec;
  /**
   * Extensions given as OID and value bytes, added after the claims extensions: for
   * malformed claims in tests. Unlike `extraExtensions`, any OID works, including
   * ones with arcs beyond 2^53 such as the verigate claims OID.
   */
  readonly rawExtensions?: readonly RawExtensionSpec[];
  /**
   * Added after every other extension, as given. @peculiar/x509 2.2 cannot encode an
   * OID arc beyond 2^53 here (it silently writes `2.25` for the verigate claims OID):
   * use `rawExtensions` for those.
   */
  readonly extraExtensions?: readonly x509.Extension[];
}

/** One extension by OID (dotted, arcs of any size) and extnValue content. */
export interface RawExtensionSpec {
  readonly oid: string;
  /** Default false. */
  readonly critical?: boolean;
  /** The extension's value: the bytes that go inside extnValue's OCTET STRING. */
  readonly value: Uint8Array;
}

/** The JSON of the verigate claims extension. */
export interface CertificateClaimsSpec {
  readonly device?: Readonly<Record<string, unknown>>;
  readonly tee?: Readonly<Record<string, unknown>>;
}

/** What a DiceTcbInfo extension should say (the fields verigate reads, and two labels). */
export interface DiceTcbInfoSpec {
  /** The first one is what verigate reads as `tee.measurement`. At least one. */
  readonly fwids: readonly {
    readonly hashAlg: "sha256" | "sha384";
    /** Hex, 32 or 48 bytes to match `hashAlg`. */
    readonly digest: string;
  }[];
  /** Emits the OperationalFlags field with only this flag (absent: no flags field at all). */
  readonly debug?: boolean;
  readonly svn?: number;
  readonly vendor?: string;
  readonly model?: string;
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
  // A key made beforehand lets evidence inside the certificate bind it (attested TLS).
  const keys = spec.keys ?? (await generateKeyPair());
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
  );
  const raw: RawExtensionSpec[] = [];
  if (spec.claims !== undefined) {
    raw.push({ oid: VERIGATE_CLAIMS_OID, value: encodeVerigateClaims(spec.claims) });
  }
  if (spec.diceTcbInfo !== undefined) {
    raw.push({ oid: DICE_TCB_INFO_OID, value: encodeDiceTcbInfo(spec.diceTcbInfo) });
  }
  raw.push(...(spec.rawExtensions ?? []));
  const standIns: OidStandIn[] = [];
  for (const extension of raw) {
    const standIn = hasOnlySafeArcs(extension.oid)
      ? undefined
      : oidStandIn(extension.oid, standIns.length);
    if (standIn !== undefined) standIns.push(standIn);
    extensions.push(
      new x509.Extension(
        standIn?.dotted ?? extension.oid,
        extension.critical ?? false,
        new Uint8Array(extension.value),
      ),
    );
  }
  extensions.push(...(spec.extraExtensions ?? []));

  const subject: x509.JsonName = [];
  if (spec.organization !== undefined) subject.push({ O: [spec.organization] });
  subject.push({ CN: [spec.commonName] });

  const generated = await x509.X509CertificateGenerator.create({
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
  const certificate =
    standIns.length === 0 ? generated : await replaceOids(generated, standIns, issuer.privateKey);
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

/** DER content of a non-negative safe integer (the CRL number, a DICE svn). */
function derIntegerContent(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`not a non-negative safe integer: ${value}`);
  }
  const hex = value.toString(16);
  const content = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
  // A set top bit would make the INTEGER negative: pad with a zero byte.
  return (content[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), content]) : content;
}

/** DER INTEGER for a small non-negative number (the CRL number). */
function encodeDerInteger(value: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(derTlv(0x02, derIntegerContent(value)));
}

/** One DER element: identifier octet, definite minimal length, content. */
function derTlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const content = Buffer.concat(contents);
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else if (length < 0x100) header = [tag, 0x81, length];
  else if (length < 0x10000) header = [tag, 0x82, length >> 8, length & 0xff];
  else throw new RangeError("DER element too long for the dev CA");
  return Buffer.concat([Buffer.from(header), content]);
}

/** An OID @peculiar/x509 can write, standing in for one it cannot, of the same DER size. */
interface OidStandIn {
  readonly dotted: string;
  /** The stand-in's whole OBJECT IDENTIFIER element. */
  readonly standInDer: Buffer;
  /** The real OID's whole OBJECT IDENTIFIER element, as long as `standInDer`. */
  readonly realDer: Buffer;
}

/** asn1js 3.1 (under @peculiar/x509) keeps OID arcs as JS numbers: larger ones break. */
function hasOnlySafeArcs(oid: string): boolean {
  return oid.split(".").every((arc) => /^\d+$/.test(arc) && Number.isSafeInteger(Number(arc)));
}

/** DER OBJECT IDENTIFIER content of a dotted OID, arcs of any size. */
function oidContent(oid: string): Buffer {
  const arcs = oid.split(".").map((arc) => BigInt(arc));
  const [first = 0n, second = 0n, ...rest] = arcs;
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let value = arc >> 7n; value > 0n; value >>= 7n) {
      group.unshift(Number(value & 0x7fn) | 0x80);
    }
    bytes.push(...group);
  }
  return Buffer.from(bytes);
}

/**
 * `2.25.N.1.1...`: single-byte arcs only (so asn1js writes it faithfully), sized like
 * the real OID, and unique per certificate through N.
 */
function oidStandIn(oid: string, index: number): OidStandIn {
  const real = oidContent(oid);
  if (real.length < 2 || index > 15) throw new RangeError(`cannot stand in for OID ${oid}`);
  const arcs = [0x70 + index, ...Array<number>(real.length - 2).fill(1)];
  const dotted = `2.25.${arcs.join(".")}`;
  return {
    dotted,
    standInDer: derTlv(DER_TAG.objectIdentifier, oidContent(dotted)),
    realDer: derTlv(DER_TAG.objectIdentifier, real),
  };
}

/**
 * Swaps each stand-in OID in the TBSCertificate for the real one (same length, so no
 * other length changes) and signs the result again with the issuer's key.
 */
async function replaceOids(
  generated: x509.X509Certificate,
  standIns: readonly OidStandIn[],
  signingKey: CryptoKey,
): Promise<x509.X509Certificate> {
  const outer = new DerReader(
    readSingle(new Uint8Array(generated.rawData), DER_TAG.sequence, "Certificate"),
  );
  const tbs = derTlv(DER_TAG.sequence, outer.readTagged(DER_TAG.sequence, "TBSCertificate"));
  const signatureAlgorithm = derTlv(
    DER_TAG.sequence,
    outer.readTagged(DER_TAG.sequence, "signatureAlgorithm"),
  );
  for (const { standInDer, realDer } of standIns) {
    const at = tbs.indexOf(standInDer);
    // Exactly one place: a second match (a key that happens to hold the bytes) is refused.
    if (at < 0 || tbs.indexOf(standInDer, at + 1) >= 0) {
      throw new Error("stand-in OID not found exactly once");
    }
    realDer.copy(tbs, at);
  }
  const p1363 = Buffer.from(await webcrypto.subtle.sign(SIGNING_ALGORITHM, signingKey, tbs));
  const signature = derTlv(DER_TAG.bitString, Buffer.from([0]), ecdsaSignatureDer(p1363));
  return new x509.X509Certificate(
    new Uint8Array(derTlv(DER_TAG.sequence, tbs, signatureAlgorithm, signature)),
  );
}

/** WebCrypto's r || s as X.509's ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }. */
function ecdsaSignatureDer(p1363: Buffer): Buffer {
  const half = p1363.length / 2;
  const integer = (bytes: Buffer): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const padded = (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
    return derTlv(DER_TAG.integer, padded);
  };
  return derTlv(DER_TAG.sequence, integer(p1363.subarray(0, half)), integer(p1363.subarray(half)));
}

/** The verigate claims extension's value: a DER UTF8String holding the JSON. */
function encodeVerigateClaims(claims: CertificateClaimsSpec): Uint8Array<ArrayBuffer> {
  const json = JSON.stringify({
    ...(claims.device === undefined ? {} : { device: claims.device }),
    ...(claims.tee === undefined ? {} : { tee: claims.tee }),
  });
  return new Uint8Array(derTlv(0x0c, Buffer.from(json, "utf8")));
}

/** DER OBJECT IDENTIFIER contents of the FWID hash algorithms (NIST hashAlgs arc). */
const HASH_OID_CONTENT = {
  sha256: Buffer.from("608648016503040201", "hex"),
  sha384: Buffer.from("608648016503040202", "hex"),
} as const;
const HASH_SIZE = { sha256: 32, sha384: 48 } as const;

/**
 * A DiceTcbInfo (TCG DICE Attestation Architecture; every field IMPLICIT-tagged):
 * vendor [0], model [1], svn [3], fwids [6], flags [7], in that order.
 */
function encodeDiceTcbInfo(spec: DiceTcbInfoSpec): Uint8Array<ArrayBuffer> {
  if (spec.fwids.length === 0)
    throw new RangeError("a DiceTcbInfo FWIDLIST holds at least one FWID");
  const fields: Buffer[] = [];
  if (spec.vendor !== undefined) fields.push(derTlv(0x80, Buffer.from(spec.vendor, "utf8")));
  if (spec.model !== undefined) fields.push(derTlv(0x81, Buffer.from(spec.model, "utf8")));
  if (spec.svn !== undefined) fields.push(derTlv(0x83, derIntegerContent(spec.svn)));
  const fwids = spec.fwids.map(({ hashAlg, digest }) => {
    const bytes = Buffer.from(digest, "hex");
    if (bytes.length !== HASH_SIZE[hashAlg] || bytes.toString("hex") !== digest.toLowerCase()) {
      throw new RangeError(`FWID digest is not ${HASH_SIZE[hashAlg]} bytes of hex`);
    }
    return derTlv(0x30, derTlv(0x06, HASH_OID_CONTENT[hashAlg]), derTlv(0x04, bytes));
  });
  fields.push(derTlv(0xa6, ...fwids));
  if (spec.debug !== undefined) {
    // OperationalFlags with only debug (bit 3) possibly set. DER drops trailing zero
    // bits of a named bit list: no flag is an empty string, debug alone leaves 4 unused.
    const flags = spec.debug ? Buffer.from([0x04, 0x10]) : Buffer.from([0x00]);
    fields.push(derTlv(0x87, flags));
  }
  return new Uint8Array(derTlv(0x30, ...fields));
}
