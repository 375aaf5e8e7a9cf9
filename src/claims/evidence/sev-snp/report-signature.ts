/**
 * The report's own signature: ECDSA P-384 with SHA-384 over bytes [0, 0x2A0),
 * made by the VCEK or VLEK. AMD stores R and S as little-endian integers,
 * zero-extended to 72 bytes; Node wants them big-endian and 48 bytes each, side by
 * side (IEEE P1363), which is an exact, unambiguous encoding (DER would need
 * minimal-integer rules of its own).
 */
import { verify, type KeyObject } from "node:crypto";
import type { SnpReport } from "./parse-report.js";

const P384_SCALAR_SIZE = 48;

/** R and S (48 bytes each, little endian) as a 96-byte IEEE P1363 signature. */
export function toP1363Signature(rLittleEndian: Uint8Array, sLittleEndian: Uint8Array): Buffer {
  if (rLittleEndian.length !== P384_SCALAR_SIZE || sLittleEndian.length !== P384_SCALAR_SIZE) {
    throw new RangeError("R and S are 48 bytes each");
  }
  return Buffer.concat([
    Buffer.from(rLittleEndian).reverse(),
    Buffer.from(sLittleEndian).reverse(),
  ]);
}

/** Whether `key` (the VCEK's or VLEK's, P-384) made the report's signature. */
export function isReportSignedBy(report: SnpReport, key: KeyObject): boolean {
  try {
    return verify(
      "sha384",
      report.signedBytes,
      { key, dsaEncoding: "ieee-p1363" },
      toP1363Signature(report.signatureR, report.signatureS),
    );
  } catch {
    // OpenSSL throws on some out-of-range scalars instead of answering false.
    return false;
  }
}
