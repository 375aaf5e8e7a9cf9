/**
 * The parts of an X.509 certificate the SEV-SNP chain check needs, read from the
 * DER with verigate's strict reader: the exact signed bytes (TBSCertificate), the
 * signature, issuer and subject names as encoded, validity, extensions by OID, and
 * the public key (through Node's X509Certificate). Node alone cannot hand back the
 * TBS bytes or arbitrary extensions, and verifying the signature ourselves is what
 * lets `rsa-pss-sha384.ts` pin the algorithm.
 */
import { X509Certificate, createHash, type KeyObject } from "node:crypto";
import {
  DER_TAG,
  DerError,
  DerReader,
  decodeObjectIdentifier,
  decodeUtf8,
  readSingle,
  readDerTime,
} from "../../der-reader.js";
import { isRsaPssSha384, verifyRsaPssSha384 } from "./rsa-pss-sha384.js";

/** A certificate larger than this is not one of AMD's (theirs are under 2 KiB). */
export const MAX_CERTIFICATE_BYTES = 8192;

/** One extension: its criticality and the content of its extnValue OCTET STRING. */
export interface CertificateExtension {
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** A parsed certificate. Nothing in it is trusted until a signature check says so. */
export interface AmdCertificate {
  readonly der: Buffer;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  /** The TBSCertificate, tag and length included: what the issuer signed. */
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
  /** True when the signature algorithm is RSASSA-PSS SHA-384 (AMD's only one). */
  readonly isSignedWithRsaPssSha384: boolean;
  /** The issuer and subject Name content, as encoded (compared byte for byte). */
  readonly issuerName: Uint8Array;
  readonly subjectName: Uint8Array;
  /** The one commonName of the subject / issuer, or undefined if not exactly one. */
  readonly subjectCommonName: string | undefined;
  readonly issuerCommonName: string | undefined;
  /** Milliseconds since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** basicConstraints cA. */
  readonly isCa: boolean;
  readonly publicKey: KeyObject;
  readonly extensions: ReadonlyMap<string, CertificateExtension>;
}

/** Thrown for a certificate verigate cannot read; `message` is safe to log. */
export class CertificateFormatError extends Error {}

const PRINTABLE_STRING_TAG = 0x13;
const BOOLEAN_TAG = 0x01;
const COMMON_NAME_OID = "2.5.4.3";
const X509_V3 = 2;

/** Parses a DER certificate; throws `CertificateFormatError` with what is wrong. */
export function parseAmdCertificate(der: Uint8Array): AmdCertificate {
  if (der.length > MAX_CERTIFICATE_BYTES) {
    throw new CertificateFormatError(
      `certificate is ${der.length} bytes (at most ${MAX_CERTIFICATE_BYTES})`,
    );
  }
  const copy = Buffer.from(der);
  try {
    const certificate = new DerReader(readSingle(copy, DER_TAG.sequence, "certificate"));
    const tbsElement = certificate.read();
    if (tbsElement.tag !== DER_TAG.sequence) throw new DerError("TBSCertificate is not a SEQUENCE");
    const tbs = wholeElement(copy, tbsElement.content);
    const signatureAlgorithm = certificate.readTagged(DER_TAG.sequence, "signatureAlgorithm");
    const signatureBits = certificate.readTagged(DER_TAG.bitString, "signature");
    certificate.expectEnd("certificate");
    if (signatureBits[0] !== 0) throw new DerError("signature BIT STRING has unused bits");

    const fields = readTbs(tbsElement.content);
    if (!Buffer.from(fields.signatureAlgorithm).equals(Buffer.from(signatureAlgorithm))) {
      throw new DerError("the signature algorithm inside and outside the TBSCertificate differ");
    }
    const node = new X509Certificate(copy);
    return {
      der: copy,
      fingerprint: createHash("sha256").update(copy).digest("hex"),
      tbs,
      signature: signatureBits.subarray(1),
      isSignedWithRsaPssSha384: isRsaPssSha384(signatureAlgorithm),
      issuerName: fields.issuer,
      subjectName: fields.subject,
      subjectCommonName: readCommonName(fields.subject),
      issuerCommonName: readCommonName(fields.issuer),
      notBefore: fields.notBefore,
      notAfter: fields.notAfter,
      isCa: node.ca,
      publicKey: node.publicKey,
      extensions: fields.extensions,
    };
  } catch (e: unknown) {
    if (e instanceof DerError)
      throw new CertificateFormatError(`not a DER certificate: ${e.message}`);
    if (e instanceof CertificateFormatError) throw e;
    // Node's own parser refused it (its messages are OpenSSL's, safe to show).
    throw new CertificateFormatError(
      `not a certificate: ${e instanceof Error ? e.message : "unreadable"}`,
    );
  }
}

/** Whether `issuer`'s key made `cert`'s signature (RSASSA-PSS SHA-384, salt 48). */
export function isIssuedBy(cert: AmdCertificate, issuer: AmdCertificate): boolean {
  return (
    cert.isSignedWithRsaPssSha384 &&
    Buffer.from(cert.issuerName).equals(Buffer.from(issuer.subjectName)) &&
    verifyRsaPssSha384(cert.tbs, cert.signature, issuer.publicKey)
  );
}

/** Undefined when `now` lies within the validity period, else what is wrong. */
export function validityProblem(
  cert: AmdCertificate,
  now: number,
  what: string,
): string | undefined {
  if (now < cert.notBefore) {
    return `${what} is not valid before ${new Date(cert.notBefore).toISOString()} (now ${isoTime(now)})`;
  }
  if (now > cert.notAfter) {
    return `${what} expired at ${new Date(cert.notAfter).toISOString()} (now ${isoTime(now)})`;
  }
  return undefined;
}

interface TbsFields {
  readonly signatureAlgorithm: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly extensions: ReadonlyMap<string, CertificateExtension>;
}

function readTbs(content: Uint8Array): TbsFields {
  const tbs = new DerReader(content);
  if (tbs.peekTag() !== 0xa0) throw new DerError("not an X.509 v3 certificate");
  const version = readSingle(tbs.read().content, DER_TAG.integer, "version");
  if (version.length !== 1 || version[0] !== X509_V3)
    throw new DerError("not an X.509 v3 certificate");
  tbs.readTagged(DER_TAG.integer, "serialNumber");
  const signatureAlgorithm = tbs.readTagged(DER_TAG.sequence, "signature");
  const issuer = tbs.readTagged(DER_TAG.sequence, "issuer");
  const validity = new DerReader(tbs.readTagged(DER_TAG.sequence, "validity"));
  const notBefore = readTime(validity, "notBefore");
  const notAfter = readTime(validity, "notAfter");
  validity.expectEnd("validity");
  const subject = tbs.readTagged(DER_TAG.sequence, "subject");
  tbs.readTagged(DER_TAG.sequence, "subjectPublicKeyInfo");
  // issuerUniqueID [1] and subjectUniqueID [2] are allowed and ignored.
  if (tbs.peekTag() === 0x81) tbs.read();
  if (tbs.peekTag() === 0x82) tbs.read();
  const extensions =
    tbs.peekTag() === 0xa3
      ? readExtensions(readSingle(tbs.read().content, DER_TAG.sequence, "extensions"))
      : new Map<string, CertificateExtension>();
  tbs.expectEnd("TBSCertificate");
  return { signatureAlgorithm, issuer, subject, notBefore, notAfter, extensions };
}

function readExtensions(content: Uint8Array): Map<string, CertificateExtension> {
  const extensions = new Map<string, CertificateExtension>();
  const list = new DerReader(content);
  while (!list.isDone) {
    const extension = new DerReader(list.readTagged(DER_TAG.sequence, "extension"));
    const oid = decodeObjectIdentifier(
      extension.readTagged(DER_TAG.objectIdentifier, "extnID"),
      "extnID",
    );
    let critical = false;
    if (extension.peekTag() === BOOLEAN_TAG) {
      const flag = extension.readTagged(BOOLEAN_TAG, "critical");
      if (flag.length !== 1 || (flag[0] !== 0 && flag[0] !== 0xff))
        throw new DerError("invalid BOOLEAN");
      critical = flag[0] === 0xff;
    }
    const value = extension.readTagged(DER_TAG.octetString, "extnValue");
    extension.expectEnd("extension");
    // RFC 5280: an extension appears at most once; two would make "the" value ambiguous.
    if (extensions.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    extensions.set(oid, { critical, value });
  }
  return extensions;
}

function readTime(reader: DerReader, what: string): number {
  return readDerTime(reader.read(), what);
}

/** The single commonName of a Name (UTF8String or PrintableString), else undefined. */
function readCommonName(name: Uint8Array): string | undefined {
  const found: string[] = [];
  const rdns = new DerReader(name);
  while (!rdns.isDone) {
    const set = new DerReader(rdns.readTagged(0x31, "RelativeDistinguishedName"));
    while (!set.isDone) {
      const attribute = new DerReader(set.readTagged(DER_TAG.sequence, "AttributeTypeAndValue"));
      const type = decodeObjectIdentifier(
        attribute.readTagged(DER_TAG.objectIdentifier, "type"),
        "type",
      );
      const value = attribute.read();
      attribute.expectEnd("AttributeTypeAndValue");
      if (type !== COMMON_NAME_OID) continue;
      if (value.tag !== DER_TAG.utf8String && value.tag !== PRINTABLE_STRING_TAG) return undefined;
      found.push(decodeUtf8(value.content, "commonName"));
    }
  }
  return found.length === 1 ? found[0] : undefined;
}

/** The whole element (tag and length too) whose content is `content`, inside `outer`. */
function wholeElement(outer: Buffer, content: Uint8Array): Uint8Array {
  // `content` is a view into `outer`; the header sits just before it. The start of the
  // whole element is the start of `outer`'s content, i.e. right after the outer header.
  const contentStart = content.byteOffset - outer.byteOffset;
  const outerHeader = headerLength(outer);
  return outer.subarray(outerHeader, contentStart + content.length);
}

function headerLength(element: Uint8Array): number {
  const first = element[1] ?? 0;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function isoTime(now: number): string {
  return Number.isFinite(now) ? new Date(now).toISOString() : String(now);
}
