import { X509Certificate } from "node:crypto";
import { DER_TAG, DerError, DerReader, readSingle } from "./der-reader.js";

/** `[0] EXPLICIT Version` of a v2/v3 TBSCertificate. */
const VERSION_TAG = 0xa0;

/**
 * The DER SubjectPublicKeyInfo of a certificate (RFC 5280 §4.1): the key that raw
 * evidence binds. Read straight out of the TBSCertificate, a slice of the DER, where
 * Node's `publicKey.export()` costs about 150 µs per connection. A certificate the
 * strict reader refuses (it has passed OpenSSL already) goes through Node instead.
 */
export function subjectPublicKeyInfo(der: Buffer): Buffer {
  try {
    const certificate = new DerReader(readSingle(der, DER_TAG.sequence, "certificate"));
    const tbs = new DerReader(certificate.readTagged(DER_TAG.sequence, "tbsCertificate"));
    if (tbs.peekTag() === VERSION_TAG) tbs.read();
    tbs.readTagged(DER_TAG.integer, "serialNumber");
    for (const field of ["signature", "issuer", "validity", "subject"]) {
      tbs.readTagged(DER_TAG.sequence, field);
    }
    const spki = tbs.readEncoded(DER_TAG.sequence, "subjectPublicKeyInfo");
    return Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  } catch (error: unknown) {
    if (!(error instanceof DerError)) throw error;
    return new X509Certificate(der).publicKey.export({ type: "spki", format: "der" });
  }
}
