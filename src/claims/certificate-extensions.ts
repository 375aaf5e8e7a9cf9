/**
 * Finds extensions in a certificate's DER by OID. Not @peculiar/x509: its ASN.1 layer
 * (asn1js 3.1) cannot represent an OID arc beyond 2^53, and the verigate claims OID
 * (2.25.<128-bit UUID>) comes back from it as "2.25.{hex}", so looking it up by name
 * would never match. OIDs are decoded here with arbitrary-size arcs.
 */
import { DER_TAG, DerError, DerReader, decodeObjectIdentifier, readSingle } from "./der-reader.js";

/** One extension as the certificate holds it. */
export interface CertificateExtension {
  /** Dotted form. */
  readonly oid: string;
  readonly isCritical: boolean;
  /** extnValue's content: the DER of the extension's own structure. */
  readonly value: Uint8Array;
}

/** `[3] EXPLICIT Extensions` in TBSCertificate. */
const EXTENSIONS_TAG = 0xa3;
const BOOLEAN_TAG = 0x01;

/**
 * Every extension of a DER certificate, in order. Throws `DerError` when the
 * certificate's framing is not DER (the caller treats that as "no claims").
 */
export function readCertificateExtensions(certificate: Uint8Array): CertificateExtension[] {
  const outer = new DerReader(readSingle(certificate, DER_TAG.sequence, "Certificate"));
  const tbs = new DerReader(outer.readTagged(DER_TAG.sequence, "TBSCertificate"));
  let extensions: Uint8Array | undefined;
  while (!tbs.isDone) {
    const element = tbs.read();
    if (element.tag === EXTENSIONS_TAG) {
      extensions = element.content;
      // Extensions are TBSCertificate's last field.
      tbs.expectEnd("TBSCertificate");
    }
  }
  if (extensions === undefined) return [];
  const list = new DerReader(readSingle(extensions, DER_TAG.sequence, "Extensions"));
  const result: CertificateExtension[] = [];
  while (!list.isDone) {
    const extension = new DerReader(list.readTagged(DER_TAG.sequence, "Extension"));
    const oid = decodeObjectIdentifier(
      extension.readTagged(DER_TAG.objectIdentifier, "extnID"),
      "extnID",
    );
    let isCritical = false;
    if (extension.peekTag() === BOOLEAN_TAG) {
      const flag = extension.readTagged(BOOLEAN_TAG, "critical");
      if (flag.length !== 1) throw new DerError("critical: not a BOOLEAN");
      isCritical = flag[0] !== 0;
    }
    const value = extension.readTagged(DER_TAG.octetString, "extnValue");
    extension.expectEnd("Extension");
    result.push({ oid, isCritical, value });
  }
  return result;
}
