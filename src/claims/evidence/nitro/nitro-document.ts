/**
 * Decodes an AWS Nitro Enclaves attestation document (a COSE_Sign1 whose payload is
 * the AttestationDocument map) and checks every field's type and size against AWS's
 * specification. Nothing here checks a signature or a certificate: the result is
 * UNVERIFIED, and only `createNitroVerifier` turns it into evidence.
 *
 * The specification's limits, and where the real documents differ:
 * - `user_data`, `nonce` and `public_key` hold up to 1024 bytes. (The NSM API's
 *   attestation_process.md says 512 for `user_data` and `nonce`, but real documents
 *   from AWS carry 1024 bytes in each, and AWS's user guide says 1024.)
 * - The NSM writes an absent optional field as `null` (the document definition says
 *   no field may be null; every real document disagrees), so `null` means absent.
 * - `certificate` and each `cabundle` entry: 1 to 1024 bytes; `cabundle` is not empty.
 * - `pcrs`: 1 to 32 entries, index 0 to 31, each 32, 48 or 64 bytes. PCR0, PCR1 and
 *   PCR2 must be present: the measurement and the debug flag are read from them, and
 *   a document without them must not pass for "not debug".
 * - Unknown fields are refused: a field we do not understand may change the meaning
 *   of the ones we do.
 */
import { CoseError, MAX_NITRO_PAYLOAD_BYTES, decodeCoseSign1 } from "./cose-sign1.js";
import { CborError, decodeCbor, isCborMap, type CborMap, type CborValue } from "./strict-cbor.js";

/**
 * Upper bound on a whole document: the largest payload the specification allows, plus
 * room for the envelope (headers, signature, framing). Checked before decoding.
 */
export const MAX_NITRO_DOCUMENT_BYTES = MAX_NITRO_PAYLOAD_BYTES + 256;

const MAX_CERTIFICATE_BYTES = 1024;
const MAX_USER_DATA_BYTES = 1024;
/** AWS issues root, regional, zonal and instance CAs today: four. */
const MAX_CABUNDLE_ENTRIES = 8;
const MAX_MODULE_ID_LENGTH = 256;
const PCR_SIZES: ReadonlySet<number> = new Set([32, 48, 64]);
const MAX_PCR_INDEX = 31;
/** PCR0 (enclave image), PCR1 (kernel and boot ramdisk), PCR2 (application). */
const REQUIRED_PCRS = [0, 1, 2] as const;

const MANDATORY_FIELDS = [
  "module_id",
  "digest",
  "timestamp",
  "pcrs",
  "certificate",
  "cabundle",
] as const;
const OPTIONAL_FIELDS = ["public_key", "user_data", "nonce"] as const;
const KNOWN_FIELDS: ReadonlySet<string> = new Set([...MANDATORY_FIELDS, ...OPTIONAL_FIELDS]);

/** A decoded, well-formed Nitro document whose signature and chain have NOT been checked. */
export interface UnverifiedNitroDocument {
  /** The COSE protected header as received (the signature covers it). */
  readonly protectedHeader: Buffer;
  /** The COSE payload as received: the CBOR of the fields below. */
  readonly payload: Buffer;
  /** ES384 r || s, 96 bytes. */
  readonly signature: Buffer;
  readonly moduleId: string;
  /** Always `SHA384`. */
  readonly digest: string;
  /** Milliseconds since the epoch, as the hypervisor stamped it. */
  readonly timestamp: number;
  /** PCR index to value; always holds 0, 1 and 2. */
  readonly pcrs: ReadonlyMap<number, Buffer>;
  /** The signing certificate (DER). */
  readonly certificate: Buffer;
  /** The issuing CA certificates (DER), root first. */
  readonly cabundle: readonly Buffer[];
  readonly publicKey: Buffer | undefined;
  readonly userData: Buffer | undefined;
  readonly nonce: Buffer | undefined;
}

export type NitroDocumentOutcome =
  | { readonly ok: true; readonly document: UnverifiedNitroDocument }
  | { readonly ok: false; readonly problem: string };

/** A field that breaks the specification; becomes `{ ok: false, problem }`. */
class PayloadProblem extends Error {}

/**
 * Decodes a Nitro attestation document (COSE_Sign1 bytes, tagged or not) and checks
 * its structure; never throws. For a document found elsewhere, e.g. hex-encoded in a
 * certificate's SAN (see `findNitroDocumentInCertificate`): decoding proves nothing,
 * verify it with `createNitroVerifier` before believing any field.
 */
export function decodeNitroDocument(bytes: Uint8Array): NitroDocumentOutcome {
  if (bytes.length > MAX_NITRO_DOCUMENT_BYTES) {
    return {
      ok: false,
      problem: `document is ${bytes.length} bytes, more than ${MAX_NITRO_DOCUMENT_BYTES}`,
    };
  }
  try {
    const cose = decodeCoseSign1(bytes);
    const fields = decodePayload(cose.payload);
    return {
      ok: true,
      document: {
        protectedHeader: Buffer.from(cose.protectedHeader),
        payload: Buffer.from(cose.payload),
        signature: Buffer.from(cose.signature),
        ...fields,
      },
    };
  } catch (error: unknown) {
    if (error instanceof CoseError) return { ok: false, problem: `cose: ${error.message}` };
    if (error instanceof PayloadProblem) return { ok: false, problem: `payload: ${error.message}` };
    const message = error instanceof Error ? error.message : "unknown error";
    return { ok: false, problem: `decode: ${message}` };
  }
}

type DocumentFields = Omit<UnverifiedNitroDocument, "protectedHeader" | "payload" | "signature">;

function decodePayload(payload: Uint8Array): DocumentFields {
  let decoded: CborValue;
  try {
    decoded = decodeCbor(payload);
  } catch (error: unknown) {
    if (error instanceof CborError) throw new PayloadProblem(error.message);
    throw error;
  }
  if (!isCborMap(decoded)) throw new PayloadProblem("not a map");
  for (const key of decoded.keys()) {
    if (typeof key !== "string") throw new PayloadProblem(`field name ${key} is not text`);
    if (!KNOWN_FIELDS.has(key)) throw new PayloadProblem(`unknown field ${quote(key)}`);
  }
  for (const field of MANDATORY_FIELDS) {
    if (!decoded.has(field)) throw new PayloadProblem(`missing field ${quote(field)}`);
  }
  return {
    moduleId: readModuleId(decoded.get("module_id")),
    digest: readDigest(decoded.get("digest")),
    timestamp: readTimestamp(decoded.get("timestamp")),
    pcrs: readPcrs(decoded.get("pcrs")),
    certificate: readBytes(decoded.get("certificate"), "certificate", 1, MAX_CERTIFICATE_BYTES),
    cabundle: readCabundle(decoded.get("cabundle")),
    publicKey: readOptionalBytes(decoded, "public_key", 1),
    userData: readOptionalBytes(decoded, "user_data", 0),
    nonce: readOptionalBytes(decoded, "nonce", 0),
  };
}

/** Printable ASCII only: the module ID ends up in claims, logs and possibly headers. */
const MODULE_ID = /^[\x20-\x7e]+$/;

function readModuleId(value: CborValue | undefined): string {
  if (typeof value !== "string") throw new PayloadProblem("module_id is not text");
  if (value.length === 0) throw new PayloadProblem("module_id is empty");
  if (value.length > MAX_MODULE_ID_LENGTH) {
    throw new PayloadProblem(`module_id is longer than ${MAX_MODULE_ID_LENGTH} characters`);
  }
  if (!MODULE_ID.test(value)) throw new PayloadProblem("module_id is not printable ASCII");
  return value;
}

function readDigest(value: CborValue | undefined): string {
  if (typeof value !== "string") throw new PayloadProblem("digest is not text");
  if (value !== "SHA384") throw new PayloadProblem(`digest is ${quote(value)}, not "SHA384"`);
  return value;
}

function readTimestamp(value: CborValue | undefined): number {
  // The decoder yields only safe integers, so a number here is exact.
  if (typeof value !== "number") throw new PayloadProblem("timestamp is not an integer");
  if (value <= 0) throw new PayloadProblem("timestamp is not positive");
  return value;
}

function readPcrs(value: CborValue | undefined): ReadonlyMap<number, Buffer> {
  if (value === undefined || !isCborMap(value)) throw new PayloadProblem("pcrs is not a map");
  if (value.size < 1 || value.size > MAX_PCR_INDEX + 1) {
    throw new PayloadProblem(`pcrs has ${value.size} entries, not 1 to ${MAX_PCR_INDEX + 1}`);
  }
  const pcrs = new Map<number, Buffer>();
  for (const [index, pcr] of value) {
    if (typeof index !== "number" || index < 0 || index > MAX_PCR_INDEX) {
      throw new PayloadProblem(`pcrs: index ${quote(index)} is not an integer from 0 to 31`);
    }
    if (!(pcr instanceof Uint8Array)) throw new PayloadProblem(`pcrs[${index}] is not bytes`);
    if (!PCR_SIZES.has(pcr.length)) {
      throw new PayloadProblem(`pcrs[${index}] is ${pcr.length} bytes, not 32, 48 or 64`);
    }
    pcrs.set(index, Buffer.from(pcr));
  }
  for (const index of REQUIRED_PCRS) {
    if (!pcrs.has(index)) throw new PayloadProblem(`pcrs: PCR${index} is missing`);
  }
  return pcrs;
}

function readCabundle(value: CborValue | undefined): Buffer[] {
  if (!Array.isArray(value)) throw new PayloadProblem("cabundle is not an array");
  const entries = value as readonly CborValue[];
  if (entries.length < 1 || entries.length > MAX_CABUNDLE_ENTRIES) {
    throw new PayloadProblem(
      `cabundle has ${entries.length} entries, not 1 to ${MAX_CABUNDLE_ENTRIES}`,
    );
  }
  return entries.map((entry, i) => readBytes(entry, `cabundle[${i}]`, 1, MAX_CERTIFICATE_BYTES));
}

function readBytes(value: CborValue | undefined, field: string, min: number, max: number): Buffer {
  if (!(value instanceof Uint8Array)) throw new PayloadProblem(`${field} is not bytes`);
  if (value.length < min || value.length > max) {
    throw new PayloadProblem(`${field} is ${value.length} bytes, not ${min} to ${max}`);
  }
  return Buffer.from(value);
}

function readOptionalBytes(
  payload: CborMap,
  field: (typeof OPTIONAL_FIELDS)[number],
  min: number,
): Buffer | undefined {
  const value = payload.get(field);
  if (value === undefined || value === null) return undefined;
  return readBytes(value, field, min, MAX_USER_DATA_BYTES);
}

/** A value for a problem message: JSON, at most 40 characters. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
