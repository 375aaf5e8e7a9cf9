/**
 * Where a TLS client certificate can carry TEE evidence, and what each carrier says
 * the evidence must bind. Finding is not verifying: every candidate still goes to the
 * platform's `EvidenceVerifier`, and is accepted only when `isBound` holds for the
 * certificate's own SubjectPublicKeyInfo.
 *
 * Carriers, in priority order:
 * 1. `nitro-san`: an AWS Nitro document, hex, as the first label of a SAN dNSName
 *    (Evervault). Bound when `user_data` is exactly the DER SPKI.
 * 2. `dice-cmw`: TCG DICE `tcg-dice-conceptual-message-wrapper` (2.23.133.5.4.9), as
 *    - the Interoperable RA-TLS / Gramine "tagged evidence": CBOR tag 60000 (IANA:
 *      Intel TEE quote) over `[bstr quote, bstr claims]`, claims a CBOR map whose
 *      `pubkey-hash` is a CBOR `[hash-alg-id, hash(DER SPKI)]` (alg 1, 7 or 8 of the
 *      IANA named-information registry). Bound when report data is
 *      SHA-256(claims bytes) followed by 32 zero bytes and the hash matches;
 *    - a CMW record (draft-ietf-rats-msg-wrap): CBOR `[type, bstr value, ?ind]`, CBOR
 *      tag over a bstr, or JSON `["type", "base64url", ?ind]`, the extension holding
 *      the CBOR raw, in a DER OCTET STRING or the JSON in a DER UTF8String. The value
 *      is recognised by content: a TDX quote, or an SEV-SNP report (0x4A0 bytes)
 *      followed by its DER VCEK/VLEK (and optionally ASK). Bound when report data is
 *      SHA-512(DER SPKI).
 * 3. `dstack`: Phala dstack's quote extension 1.3.6.1.4.1.62397.1.1, a DER OCTET
 *    STRING holding a TDX quote. Bound when report data is
 *    SHA-512("ratls-cert:" || DER SPKI).
 * Recognised and refused with a note: Gramine's legacy SGX quote OID
 * 1.2.840.113741.1337.6, SGX quotes in any carrier, and dstack's versioned
 * attestation envelope 1.3.6.1.4.1.62397.1.8 (not read yet).
 */
import { createHash } from "node:crypto";
import { readCertificateExtensions } from "../../certificate-extensions.js";
import { DER_TAG, DerError, DerReader, readSingle } from "../../der-reader.js";
import type { EvidencePlatform, VerifiedEvidence } from "../evidence.js";
import { findNitroDocumentInCertificate } from "../nitro/nitro-document-in-certificate.js";
import { CborError, CborTag, type CborValue, decodeCbor, isCborMap } from "../nitro/strict-cbor.js";

/** Stable names of the carriers, as they appear in notes and `tee.claims.carriedIn`. */
export type EvidenceCarrier = "nitro-san" | "dice-cmw" | "dstack";

/** Evidence found in a certificate, not yet verified. */
export interface EvidenceCandidate {
  readonly carrier: EvidenceCarrier;
  readonly platform: EvidencePlatform;
  readonly evidence: Buffer;
  readonly certs: readonly Buffer[];
  /** Whether the verified evidence binds the certificate's DER SPKI under this carrier's rule. */
  isBound(verified: VerifiedEvidence, spki: Buffer): boolean;
}

/** Candidates in priority order, and why other evidence in the certificate was not taken. */
export interface FoundEvidence {
  readonly candidates: readonly EvidenceCandidate[];
  readonly notes: readonly string[];
}

export const DICE_CMW_OID = "2.23.133.5.4.9";
export const DSTACK_QUOTE_OID = "1.3.6.1.4.1.62397.1.1";
export const DSTACK_ATTESTATION_OID = "1.3.6.1.4.1.62397.1.8";
export const GRAMINE_SGX_QUOTE_OID = "1.2.840.113741.1337.6";

/** IANA CBOR tag 60000: an Intel TEE (SGX or TDX) DCAP quote, as Gramine tags it. */
const INTEL_TEE_QUOTE_TAG = 60000;
/** More than any quote or report with its certificates; larger extensions are refused unread. */
const MAX_EVIDENCE_EXTENSION_BYTES = 64 * 1024;
const SNP_REPORT_BYTES = 0x4a0;
const TDX_TEE_TYPE = 0x81;
const SGX_TEE_TYPE = 0x00;
/** draft-ietf-rats-msg-wrap `ind`: bit 2 marks Evidence. */
const CMW_IND_EVIDENCE = 4;
const SGX_NOT_SUPPORTED = "SGX evidence is not supported";
const DSTACK_PREFIX = Buffer.from("ratls-cert:", "latin1");
const NAMED_INFORMATION_HASHES: Readonly<Record<number, string>> = {
  1: "sha256",
  7: "sha384",
  8: "sha512",
};

/** Every evidence candidate in the certificate; never throws. */
export function findCertificateEvidence(certificate: Uint8Array): FoundEvidence {
  const candidates: EvidenceCandidate[] = [];
  const notes: string[] = [];

  const nitro = findNitroDocumentInCertificate(certificate);
  if (nitro.ok) {
    candidates.push({
      carrier: "nitro-san",
      platform: "nitro",
      evidence: nitro.document,
      certs: [],
      isBound: (verified, spki) => verified.reportData.equals(spki),
    });
  } else if (nitro.problem !== "no SAN dNSName carries a document") {
    notes.push(`nitro-san: ${nitro.problem}`);
  }

  let extensions;
  try {
    extensions = readCertificateExtensions(certificate);
  } catch (e: unknown) {
    if (!(e instanceof DerError)) throw e;
    notes.push(`certificate: ${e.message}`);
    return { candidates, notes };
  }
  const byOid = (oid: string): Uint8Array[] =>
    extensions.filter((extension) => extension.oid === oid).map((extension) => extension.value);

  for (const [carrier, oid, read] of [
    ["dice-cmw", DICE_CMW_OID, readDiceCmw],
    ["dstack", DSTACK_QUOTE_OID, readDstackQuote],
  ] as const) {
    const values = byOid(oid);
    if (values.length === 0) continue;
    const [value] = values;
    if (values.length > 1 || value === undefined) {
      notes.push(`${carrier}: several ${oid} extensions`);
      continue;
    }
    if (value.length > MAX_EVIDENCE_EXTENSION_BYTES) {
      notes.push(`${carrier}: extension is more than ${MAX_EVIDENCE_EXTENSION_BYTES} bytes`);
      continue;
    }
    try {
      const found = read(value);
      if (typeof found === "string") notes.push(`${carrier}: ${found}`);
      else candidates.push(found);
    } catch (e: unknown) {
      if (!(e instanceof DerError || e instanceof CborError || e instanceof SyntaxError)) throw e;
      notes.push(`${carrier}: ${e.message}`);
    }
  }
  if (byOid(DSTACK_ATTESTATION_OID).length > 0 && byOid(DSTACK_QUOTE_OID).length === 0) {
    notes.push("dstack: the versioned attestation extension is not supported");
  }
  if (byOid(GRAMINE_SGX_QUOTE_OID).length > 0) notes.push(`gramine: ${SGX_NOT_SUPPORTED}`);
  return { candidates, notes };
}

/** The kind of a DCAP quote, from its header (version u16, key type u16, TEE type u32). */
function quoteKind(bytes: Uint8Array): "tdx" | "sgx" | undefined {
  if (bytes.length < 48) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.readUInt16LE(0);
  const teeType = view.readUInt32LE(4);
  if ((version === 4 || version === 5) && teeType === TDX_TEE_TYPE) return "tdx";
  if ((version === 3 || version === 4 || version === 5) && teeType === SGX_TEE_TYPE) return "sgx";
  return undefined;
}

function readDstackQuote(value: Uint8Array): EvidenceCandidate | string {
  const quote = readSingle(value, DER_TAG.octetString, "dstack quote");
  const kind = quoteKind(quote);
  if (kind === "sgx") return SGX_NOT_SUPPORTED;
  if (kind !== "tdx") return "the extension holds no TDX quote";
  return {
    carrier: "dstack",
    platform: "tdx",
    evidence: Buffer.from(quote),
    certs: [],
    isBound: (verified, spki) =>
      verified.reportData.equals(createHash("sha512").update(DSTACK_PREFIX).update(spki).digest()),
  };
}

const UTF8_STRING_TAG = 0x0c;

function readDiceCmw(value: Uint8Array): EvidenceCandidate | string {
  // draft-ietf-rats-msg-wrap: CMW ::= CHOICE { json UTF8String, cbor OCTET STRING };
  // Gramine and the Interoperable RA-TLS writers put the CBOR in extnValue directly.
  // Neither 0x04 nor 0x0c starts any CMW in CBOR (they are the integers 4 and 12).
  if (value[0] === DER_TAG.octetString) {
    return readCborCmw(readSingle(value, DER_TAG.octetString, "CMW"));
  }
  if (value[0] === UTF8_STRING_TAG) {
    return readJsonCmw(Buffer.from(readSingle(value, UTF8_STRING_TAG, "CMW")).toString("utf8"));
  }
  return readCborCmw(value);
}

function readCborCmw(bytes: Uint8Array): EvidenceCandidate | string {
  const cmw = decodeCbor(bytes);
  if (cmw instanceof CborTag) {
    if (cmw.tag === INTEL_TEE_QUOTE_TAG) return readTaggedTeeQuote(cmw.value);
    if (cmw.value instanceof Uint8Array) return readCmwValue(cmw.value);
    return `unsupported CBOR tag ${cmw.tag}`;
  }
  if (!Array.isArray(cmw)) return "not a CMW record";
  const [type, content, ind, ...rest] = cmw as readonly CborValue[];
  if (rest.length > 0 || !(typeof type === "number" || typeof type === "string")) {
    return "not a CMW record";
  }
  if (!(content instanceof Uint8Array)) return "CMW value is not a byte string";
  return isEvidenceIndicator(ind) ? readCmwValue(content) : "CMW does not carry evidence";
}

function readJsonCmw(text: string): EvidenceCandidate | string {
  const cmw: unknown = JSON.parse(text);
  if (!Array.isArray(cmw) || cmw.length < 2 || cmw.length > 3) return "not a CMW record";
  const [type, content, ind] = cmw as unknown[];
  if (typeof type !== "string" || typeof content !== "string") return "not a CMW record";
  if (!/^[A-Za-z0-9_-]*$/.test(content)) return "CMW value is not base64url";
  if (!isEvidenceIndicator(ind)) return "CMW does not carry evidence";
  return readCmwValue(Buffer.from(content, "base64url"));
}

function isEvidenceIndicator(ind: unknown): boolean {
  if (ind === undefined) return true;
  return typeof ind === "number" && Number.isInteger(ind) && (ind & CMW_IND_EVIDENCE) !== 0;
}

/** A CMW value recognised by content: a TDX quote, or an SNP report and its certificates. */
function readCmwValue(value: Uint8Array): EvidenceCandidate | string {
  const isBound = (verified: VerifiedEvidence, spki: Buffer): boolean =>
    verified.reportData.equals(createHash("sha512").update(spki).digest());
  const kind = quoteKind(value);
  if (kind === "sgx") return SGX_NOT_SUPPORTED;
  if (kind === "tdx") {
    return {
      carrier: "dice-cmw",
      platform: "tdx",
      evidence: Buffer.from(value),
      certs: [],
      isBound,
    };
  }
  const version = value.length >= 4 ? Buffer.from(value.subarray(0, 4)).readUInt32LE(0) : 0;
  if (value.length >= SNP_REPORT_BYTES && version >= 2 && version <= 5) {
    const certs: Buffer[] = [];
    const reader = new DerReader(value.subarray(SNP_REPORT_BYTES));
    let start = SNP_REPORT_BYTES;
    while (!reader.isDone) {
      const content = reader.readTagged(DER_TAG.sequence, "SEV-SNP certificate");
      const end = content.byteOffset - value.byteOffset + content.length;
      certs.push(Buffer.from(value.subarray(start, end)));
      start = end;
    }
    return {
      carrier: "dice-cmw",
      platform: "sev-snp",
      evidence: Buffer.from(value.subarray(0, SNP_REPORT_BYTES)),
      certs,
      isBound,
    };
  }
  return "CMW value is neither a TDX quote nor an SEV-SNP report";
}

/** Gramine / Interoperable RA-TLS: tag 60000 over `[bstr quote, bstr claims]`. */
function readTaggedTeeQuote(tagged: CborValue): EvidenceCandidate | string {
  if (!Array.isArray(tagged) || tagged.length !== 2)
    return "tagged evidence is not [quote, claims]";
  const [quote, claims] = tagged as readonly CborValue[];
  if (!(quote instanceof Uint8Array) || !(claims instanceof Uint8Array)) {
    return "tagged evidence is not [quote, claims]";
  }
  const kind = quoteKind(quote);
  if (kind === "sgx") return SGX_NOT_SUPPORTED;
  if (kind !== "tdx") return "tagged evidence holds no TDX quote";
  const claimsMap = decodeCbor(claims);
  if (!isCborMap(claimsMap)) return "tagged evidence claims are not a map";
  const pubkeyHash = claimsMap.get("pubkey-hash");
  if (!(pubkeyHash instanceof Uint8Array)) return "tagged evidence has no pubkey-hash claim";
  const entry = decodeCbor(pubkeyHash);
  if (!Array.isArray(entry) || entry.length !== 2) return "pubkey-hash is not a hash-entry";
  const [algorithmId, digest] = entry as readonly CborValue[];
  const algorithm =
    typeof algorithmId === "number" ? NAMED_INFORMATION_HASHES[algorithmId] : undefined;
  if (algorithm === undefined) return "pubkey-hash uses an unsupported hash algorithm";
  if (!(digest instanceof Uint8Array)) return "pubkey-hash value is not a byte string";
  const expectedReportData = Buffer.concat([
    createHash("sha256").update(claims).digest(),
    Buffer.alloc(32),
  ]);
  return {
    carrier: "dice-cmw",
    platform: "tdx",
    evidence: Buffer.from(quote),
    certs: [],
    isBound: (verified, spki) =>
      verified.reportData.equals(expectedReportData) &&
      Buffer.from(digest).equals(createHash(algorithm).update(spki).digest()),
  };
}
