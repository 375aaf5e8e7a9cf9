/**
 * The two facts certificate-carried evidence is judged against: the leaf's exact DER
 * SubjectPublicKeyInfo (what the evidence must bind) and its notBefore (the latest
 * moment the evidence can have been made for this key, hence its age).
 *
 * The SPKI is sliced out of the certificate's own bytes, never re-encoded: a binding
 * is checked against exactly what the TLS peer presented.
 */
import { DER_TAG, DerReader, readSingle, readDerTime } from "../../der-reader.js";

/** What the evidence binding and freshness need from the leaf. */
export interface LeafFacts {
  /** The DER SubjectPublicKeyInfo, tag and length included. */
  readonly spki: Buffer;
  /** notBefore, milliseconds since the epoch. */
  readonly notBefore: number;
}

const VERSION_TAG = 0xa0;

/** Reads the leaf's SPKI and notBefore; throws `DerError` for anything that is not DER. */
export function readLeafFacts(certificate: Uint8Array): LeafFacts {
  const outer = new DerReader(readSingle(certificate, DER_TAG.sequence, "Certificate"));
  const tbs = outer.readTagged(DER_TAG.sequence, "TBSCertificate");
  const fields = new DerReader(tbs);
  if (fields.peekTag() === VERSION_TAG) fields.read();
  fields.readTagged(DER_TAG.integer, "serialNumber");
  fields.readTagged(DER_TAG.sequence, "signature");
  fields.readTagged(DER_TAG.sequence, "issuer");
  const validity = new DerReader(fields.readTagged(DER_TAG.sequence, "validity"));
  const notBefore = readTime(validity.read());
  fields.readTagged(DER_TAG.sequence, "subject");
  const spkiContent = fields.readTagged(DER_TAG.sequence, "subjectPublicKeyInfo");
  // The element ends where its content ends; its header is the few bytes before.
  const end = spkiContent.byteOffset - tbs.byteOffset + spkiContent.length;
  const start = end - spkiContent.length - headerLength(spkiContent.length);
  return { spki: Buffer.from(tbs.subarray(start, end)), notBefore };
}

function headerLength(contentLength: number): number {
  if (contentLength < 0x80) return 2;
  if (contentLength < 0x100) return 3;
  if (contentLength < 0x10000) return 4;
  return 5;
}

function readTime(element: { readonly tag: number; readonly content: Uint8Array }): number {
  return readDerTime(element, "notBefore");
}
