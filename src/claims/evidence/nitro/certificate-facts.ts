/**
 * The facts about a DER certificate that the Nitro chain check needs and Node 20's
 * `X509Certificate` does not give exactly: the signature algorithm, the validity
 * period to the second (Node 20 has only locale-style strings), basic constraints with
 * the path length, key usage bits, and which extensions are critical.
 *
 * Read with the project's strict DER reader: a certificate whose framing is not DER
 * throws `DerError`.
 */
import { readCertificateExtensions } from "../../certificate-extensions.js";
import {
  DER_TAG,
  DerError,
  DerReader,
  decodeBitString,
  decodeObjectIdentifier,
  decodeSafeUnsignedInteger,
  readSingle,
  readDerTime,
} from "../../der-reader.js";

/** id-ce-basicConstraints. */
export const BASIC_CONSTRAINTS_OID = "2.5.29.19";
/** id-ce-keyUsage. */
export const KEY_USAGE_OID = "2.5.29.15";
/** ecdsa-with-SHA384 (RFC 5758): what every certificate of the AWS Nitro PKI is signed with. */
export const ECDSA_WITH_SHA384_OID = "1.2.840.10045.4.3.3";

/** KeyUsage bit numbers (RFC 5280 section 4.2.1.3). */
const KEY_USAGE_DIGITAL_SIGNATURE = 0;
const KEY_USAGE_KEY_CERT_SIGN = 5;

const VERSION_TAG = 0xa0;
const BOOLEAN_TAG = 0x01;

/** What the chain check reads from one certificate. */
export interface CertificateFacts {
  /** The outer signatureAlgorithm OID (equal to the TBSCertificate's: checked here). */
  readonly signatureAlgorithm: string;
  /** Milliseconds since the epoch. */
  readonly notBefore: number;
  /** Milliseconds since the epoch; the certificate is valid through this second. */
  readonly notAfter: number;
  /** Undefined when the certificate has no basicConstraints extension. */
  readonly basicConstraints: { readonly isCa: boolean; readonly pathLength?: number } | undefined;
  /** Undefined when the certificate has no keyUsage extension. */
  readonly keyUsage:
    { readonly digitalSignature: boolean; readonly keyCertSign: boolean } | undefined;
  /** OIDs of every extension marked critical. */
  readonly criticalExtensions: readonly string[];
}

/** Reads `CertificateFacts` from DER; throws `DerError` when it is not a DER certificate. */
export function readCertificateFacts(der: Uint8Array): CertificateFacts {
  const certificate = new DerReader(readSingle(der, DER_TAG.sequence, "Certificate"));
  const tbs = new DerReader(certificate.readTagged(DER_TAG.sequence, "TBSCertificate"));
  const outerAlgorithm = certificate.readTagged(DER_TAG.sequence, "signatureAlgorithm");
  certificate.readTagged(DER_TAG.bitString, "signatureValue");
  certificate.expectEnd("Certificate");

  if (tbs.peekTag() === VERSION_TAG) tbs.read();
  tbs.readTagged(DER_TAG.integer, "serialNumber");
  const innerAlgorithm = tbs.readTagged(DER_TAG.sequence, "signature");
  if (Buffer.compare(Buffer.from(innerAlgorithm), Buffer.from(outerAlgorithm)) !== 0) {
    throw new DerError("signatureAlgorithm differs from TBSCertificate.signature");
  }
  const algorithm = new DerReader(outerAlgorithm);
  const signatureAlgorithm = decodeObjectIdentifier(
    algorithm.readTagged(DER_TAG.objectIdentifier, "algorithm"),
    "algorithm",
  );
  tbs.readTagged(DER_TAG.sequence, "issuer");
  const validity = new DerReader(tbs.readTagged(DER_TAG.sequence, "validity"));
  const notBefore = readTime(validity, "notBefore");
  const notAfter = readTime(validity, "notAfter");
  validity.expectEnd("validity");

  let basicConstraints: CertificateFacts["basicConstraints"];
  let keyUsage: CertificateFacts["keyUsage"];
  const criticalExtensions: string[] = [];
  const seen = new Set<string>();
  for (const extension of readCertificateExtensions(der)) {
    // RFC 5280 section 4.2: a certificate must not include an extension more than once.
    if (seen.has(extension.oid)) throw new DerError(`extension ${extension.oid} appears twice`);
    seen.add(extension.oid);
    if (extension.isCritical) criticalExtensions.push(extension.oid);
    if (extension.oid === BASIC_CONSTRAINTS_OID) {
      basicConstraints = readBasicConstraints(extension.value);
    } else if (extension.oid === KEY_USAGE_OID) {
      const bits = decodeBitString(
        readSingle(extension.value, DER_TAG.bitString, "keyUsage"),
        "keyUsage",
      );
      keyUsage = {
        digitalSignature: bits.isSet(KEY_USAGE_DIGITAL_SIGNATURE),
        keyCertSign: bits.isSet(KEY_USAGE_KEY_CERT_SIGN),
      };
    }
  }
  return {
    signatureAlgorithm,
    notBefore,
    notAfter,
    basicConstraints,
    keyUsage,
    criticalExtensions,
  };
}

function readBasicConstraints(value: Uint8Array): CertificateFacts["basicConstraints"] {
  const reader = new DerReader(readSingle(value, DER_TAG.sequence, "basicConstraints"));
  let isCa = false;
  if (reader.peekTag() === BOOLEAN_TAG) {
    const flag = reader.readTagged(BOOLEAN_TAG, "cA");
    // DER booleans are 0x00 or 0xff; an explicit FALSE (a DEFAULT value) is tolerated.
    if (flag.length !== 1 || (flag[0] !== 0x00 && flag[0] !== 0xff)) {
      throw new DerError("cA: not a DER BOOLEAN");
    }
    isCa = flag[0] === 0xff;
  }
  let pathLength: number | undefined;
  if (!reader.isDone) {
    pathLength = decodeSafeUnsignedInteger(
      reader.readTagged(DER_TAG.integer, "pathLenConstraint"),
      "pathLenConstraint",
    );
  }
  reader.expectEnd("basicConstraints");
  return pathLength === undefined ? { isCa } : { isCa, pathLength };
}

function readTime(reader: DerReader, what: string): number {
  return readDerTime(reader.read(), what);
}
