/**
 * A certificate's issuer and subject Names and serial number, read from its DER. Revocation
 * lists name their issuer by the encoded Name, and Intel's verifier matches a CRL to a
 * certificate by comparing those bytes, not a printed form of them.
 */
import { DER_TAG, DerReader, readSingle } from "../../der-reader.js";

/** The raw Names (SEQUENCE content) and the serial number of a certificate. */
export interface CertificateNames {
  readonly issuer: Buffer;
  readonly subject: Buffer;
  /** Lowercase hex, no leading zeros (`0` for zero). */
  readonly serial: string;
}

const VERSION_TAG = 0xa0;

/** Reads the Names of a DER certificate. Throws `DerError`. */
export function readCertificateNames(certificate: Uint8Array): CertificateNames {
  const outer = new DerReader(readSingle(certificate, DER_TAG.sequence, "Certificate"));
  const tbs = new DerReader(outer.readTagged(DER_TAG.sequence, "TBSCertificate"));
  if (tbs.peekTag() === VERSION_TAG) tbs.read();
  const serial = serialHex(tbs.readTagged(DER_TAG.integer, "serialNumber"));
  tbs.readTagged(DER_TAG.sequence, "signature");
  const issuer = Buffer.from(tbs.readTagged(DER_TAG.sequence, "issuer"));
  tbs.readTagged(DER_TAG.sequence, "validity");
  const subject = Buffer.from(tbs.readTagged(DER_TAG.sequence, "subject"));
  return { issuer, subject, serial };
}

/** An INTEGER's content as canonical hex: serials compare by value, not by encoding. */
export function serialHex(content: Uint8Array): string {
  const hex = Buffer.from(content).toString("hex").replace(/^0+/, "");
  return hex === "" ? "0" : hex;
}
