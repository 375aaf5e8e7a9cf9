/**
 * Finds a Nitro attestation document carried inside an X.509 certificate the way
 * Evervault's enclaves carry it: hex-encoded, as the first label of a SAN dNSName
 * (`<hex of the COSE_Sign1>.<enclave host name>`).
 *
 * Finding is not verifying: verify the bytes with `createNitroVerifier`, and accept
 * them for this certificate only when the document's `user_data` equals the
 * certificate's DER SubjectPublicKeyInfo (the binding Evervault's enclaves make).
 * Without that check, a document copied into another certificate would vouch for a
 * key the enclave never held.
 */
import { readCertificateExtensions } from "../../certificate-extensions.js";
import { DER_TAG, DerError, DerReader, readSingle } from "../../der-reader.js";
import { MAX_NITRO_DOCUMENT_BYTES } from "./nitro-document.js";

/** id-ce-subjectAltName. */
const SUBJECT_ALT_NAME_OID = "2.5.29.17";
/** GeneralName dNSName: [2] IMPLICIT IA5String. */
const DNS_NAME_TAG = 0x82;
/**
 * A label shorter than this cannot hold a document (a real one is over 4 KB), so
 * ordinary host names that happen to be hex ("cafe.example") are not candidates.
 */
const MIN_DOCUMENT_HEX_LENGTH = 200;
const HEX = /^(?:[0-9a-f]{2})+$/;

export type DocumentInCertificateOutcome =
  | { readonly ok: true; readonly document: Buffer }
  | { readonly ok: false; readonly problem: string };

/**
 * The document bytes from a DER certificate's SAN; never throws. Exactly one dNSName
 * may carry a document: two would leave the choice to a guess.
 */
export function findNitroDocumentInCertificate(
  certificate: Uint8Array,
): DocumentInCertificateOutcome {
  let names: string[];
  try {
    names = readDnsNames(certificate);
  } catch (error: unknown) {
    if (error instanceof DerError) return { ok: false, problem: `certificate: ${error.message}` };
    throw error;
  }
  const candidates = names
    .map((name) => name.split(".", 1)[0] ?? "")
    .filter((label) => label.length >= MIN_DOCUMENT_HEX_LENGTH && HEX.test(label));
  const [label, ...others] = candidates;
  if (label === undefined) return { ok: false, problem: "no SAN dNSName carries a document" };
  if (others.length > 0) return { ok: false, problem: "several SAN dNSNames carry a document" };
  if (label.length > MAX_NITRO_DOCUMENT_BYTES * 2) {
    return { ok: false, problem: `document is more than ${MAX_NITRO_DOCUMENT_BYTES} bytes` };
  }
  return { ok: true, document: Buffer.from(label, "hex") };
}

function readDnsNames(certificate: Uint8Array): string[] {
  const extension = readCertificateExtensions(certificate).find(
    (candidate) => candidate.oid === SUBJECT_ALT_NAME_OID,
  );
  if (extension === undefined) return [];
  const names = new DerReader(readSingle(extension.value, DER_TAG.sequence, "subjectAltName"));
  const result: string[] = [];
  while (!names.isDone) {
    const { tag, content } = names.read();
    if (tag === DNS_NAME_TAG) result.push(Buffer.from(content).toString("latin1"));
  }
  return result;
}
