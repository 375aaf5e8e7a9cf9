/**
 * AMD's certificate signatures: RSASSA-PSS with SHA-384, MGF1 with SHA-384 and a
 * 48-byte salt (AMD VCEK/KDS specification). verigate checks the declared
 * algorithm is exactly that and then verifies with exactly those parameters, so a
 * certificate cannot talk the verifier into another hash or salt length.
 */
import { constants, verify, type KeyObject } from "node:crypto";
import {
  DER_TAG,
  DerError,
  DerReader,
  decodeObjectIdentifier,
  decodeSafeUnsignedInteger,
  readSingle,
} from "../../der-reader.js";

const RSASSA_PSS_OID = "1.2.840.113549.1.1.10";
const MGF1_OID = "1.2.840.113549.1.1.8";
const SHA384_OID = "2.16.840.1.101.3.4.2.2";
const SALT_LENGTH = 48;
const TRAILER_FIELD_BC = 1;
const NULL_TAG = 0x05;

/**
 * True when an AlgorithmIdentifier's content (OID and parameters) says RSASSA-PSS
 * with SHA-384, MGF1-SHA-384, salt 48 and the standard trailer. The hash
 * identifiers may carry NULL parameters or none (RFC 4055 allows both, and AMD and
 * @peculiar/x509 differ); the trailer may be explicit (AMD writes it) or absent.
 */
export function isRsaPssSha384(algorithmIdentifierContent: Uint8Array): boolean {
  try {
    const reader = new DerReader(algorithmIdentifierContent);
    const oid = decodeObjectIdentifier(
      reader.readTagged(DER_TAG.objectIdentifier, "algorithm"),
      "algorithm",
    );
    if (oid !== RSASSA_PSS_OID) return false;
    const params = new DerReader(reader.readTagged(DER_TAG.sequence, "RSASSA-PSS-params"));
    reader.expectEnd("algorithm");

    const hash = readSingle(
      params.readTagged(0xa0, "hashAlgorithm"),
      DER_TAG.sequence,
      "hashAlgorithm",
    );
    if (!isSha384Identifier(hash)) return false;

    const mgf = new DerReader(
      readSingle(params.readTagged(0xa1, "maskGenAlgorithm"), DER_TAG.sequence, "maskGenAlgorithm"),
    );
    if (
      decodeObjectIdentifier(mgf.readTagged(DER_TAG.objectIdentifier, "mgf"), "mgf") !== MGF1_OID
    ) {
      return false;
    }
    if (!isSha384Identifier(mgf.readTagged(DER_TAG.sequence, "mgf1 hash"))) return false;
    mgf.expectEnd("maskGenAlgorithm");

    const salt = readSingle(params.readTagged(0xa2, "saltLength"), DER_TAG.integer, "saltLength");
    if (decodeSafeUnsignedInteger(salt, "saltLength") !== SALT_LENGTH) return false;

    if (!params.isDone) {
      const trailer = readSingle(
        params.readTagged(0xa3, "trailerField"),
        DER_TAG.integer,
        "trailerField",
      );
      if (decodeSafeUnsignedInteger(trailer, "trailerField") !== TRAILER_FIELD_BC) return false;
    }
    params.expectEnd("RSASSA-PSS-params");
    return true;
  } catch (e: unknown) {
    if (e instanceof DerError) return false;
    throw e;
  }
}

function isSha384Identifier(content: Uint8Array): boolean {
  const reader = new DerReader(content);
  const oid = decodeObjectIdentifier(reader.readTagged(DER_TAG.objectIdentifier, "hash"), "hash");
  if (oid !== SHA384_OID) return false;
  if (!reader.isDone) {
    const nullParams = reader.readTagged(NULL_TAG, "hash parameters");
    if (nullParams.length !== 0) return false;
  }
  reader.expectEnd("hash");
  return true;
}

/** Verifies an RSASSA-PSS SHA-384 (salt 48) signature over `data` with an RSA key. */
export function verifyRsaPssSha384(
  data: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "rsa-pss") return false;
  try {
    return verify(
      "sha384",
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT_LENGTH },
      signature,
    );
  } catch {
    // OpenSSL throws for some malformed signatures (wrong length); that is "invalid".
    return false;
  }
}
