/**
 * The COSE_Sign1 envelope (RFC 9052) as the Nitro hypervisor writes it, and nothing
 * else: `18([ bstr({1: -35}), {}, bstr(payload), bstr(r || s) ])`, the tag optional.
 *
 * Fails closed on anything else: another algorithm or any further protected header
 * parameter (a `crit` we would ignore, a `kid` that means nothing to us), a non-empty
 * unprotected header (unsigned, so nothing in it may count), a detached (null)
 * payload, a signature that is not 96 bytes (ES384 is r and s of 48 bytes each).
 */
import { CborError, CborTag, decodeCbor, isCborMap } from "./strict-cbor.js";

/** COSE tag for COSE_Sign1 (RFC 9052 section 2). */
const COSE_SIGN1_TAG = 18;
/** Header parameter `alg` (RFC 9052 section 3.1). */
const HEADER_ALG = 1;
/** ECDSA with SHA-384 (RFC 9053 section 2.1): P-384 keys in Nitro. */
export const COSE_ALG_ES384 = -35;
/** ES384 signature: r and s, 48 bytes each (RFC 9053 section 2.1), not DER. */
export const ES384_SIGNATURE_BYTES = 96;
/** The payload's upper bound in the Nitro specification: `bstr .size (1..16384)`. */
export const MAX_NITRO_PAYLOAD_BYTES = 16_384;

/** Thrown when the bytes are not the Nitro COSE_Sign1 shape; `message` is safe to log. */
export class CoseError extends Error {}

/** The parts of a COSE_Sign1 that the signature covers, as received. */
export interface CoseSign1 {
  /** The protected header's bytes exactly as received: the signature covers these, not a re-encoding. */
  readonly protectedHeader: Uint8Array;
  readonly payload: Uint8Array;
  /** r || s, 96 bytes. */
  readonly signature: Uint8Array;
}

/** Decodes a Nitro COSE_Sign1; throws `CoseError` for any other shape. */
export function decodeCoseSign1(bytes: Uint8Array): CoseSign1 {
  let outer = decodeOrThrow(bytes, "COSE_Sign1");
  if (outer instanceof CborTag) {
    if (outer.tag !== COSE_SIGN1_TAG) throw new CoseError(`unexpected CBOR tag ${outer.tag}`);
    outer = outer.value;
  }
  if (!Array.isArray(outer)) throw new CoseError("COSE_Sign1 is not an array");
  const items = outer as readonly unknown[];
  if (items.length !== 4) throw new CoseError(`COSE_Sign1 has ${items.length} items, not 4`);
  const [protectedHeader, unprotectedHeader, payload, signature] = items;

  if (!(protectedHeader instanceof Uint8Array)) {
    throw new CoseError("protected header is not a byte string");
  }
  checkProtectedHeader(protectedHeader);
  if (!(unprotectedHeader instanceof Map)) throw new CoseError("unprotected header is not a map");
  if (unprotectedHeader.size !== 0) throw new CoseError("unprotected header is not empty");
  if (!(payload instanceof Uint8Array)) throw new CoseError("payload is not a byte string");
  if (payload.length === 0 || payload.length > MAX_NITRO_PAYLOAD_BYTES) {
    throw new CoseError(`payload is ${payload.length} bytes, not 1 to ${MAX_NITRO_PAYLOAD_BYTES}`);
  }
  if (!(signature instanceof Uint8Array)) throw new CoseError("signature is not a byte string");
  if (signature.length !== ES384_SIGNATURE_BYTES) {
    throw new CoseError(`signature is ${signature.length} bytes, not ${ES384_SIGNATURE_BYTES}`);
  }
  return { protectedHeader, payload, signature };
}

function checkProtectedHeader(bytes: Uint8Array): void {
  // An empty byte string stands for an empty map (RFC 9052 section 3): no alg at all.
  if (bytes.length === 0) throw new CoseError("protected header: alg missing");
  const header = decodeOrThrow(bytes, "protected header");
  if (!isCborMap(header)) throw new CoseError("protected header is not a map");
  const alg = header.get(HEADER_ALG);
  if (alg === undefined) throw new CoseError("protected header: alg missing");
  if (alg !== COSE_ALG_ES384) {
    const shown = typeof alg === "number" || typeof alg === "string" ? JSON.stringify(alg) : "?";
    throw new CoseError(`protected header: alg must be ES384 (-35), got ${shown.slice(0, 40)}`);
  }
  for (const key of header.keys()) {
    if (key !== HEADER_ALG) {
      throw new CoseError(
        `protected header: unexpected parameter ${JSON.stringify(key).slice(0, 40)}`,
      );
    }
  }
}

function decodeOrThrow(bytes: Uint8Array, what: string): ReturnType<typeof decodeCbor> {
  try {
    return decodeCbor(bytes);
  } catch (error: unknown) {
    if (error instanceof CborError) throw new CoseError(`${what}: ${error.message}`);
    throw error;
  }
}

/**
 * The bytes an ES384 COSE_Sign1 signature covers (RFC 9052 section 4.4):
 * `["Signature1", protected, external_aad = h'', payload]`, in CBOR. Built from the
 * received protected header bytes, never from a re-encoding of them.
 */
export function encodeSigStructure(protectedHeader: Uint8Array, payload: Uint8Array): Buffer {
  const context = Buffer.from("Signature1", "utf8");
  return Buffer.concat([
    Buffer.from([0x84]), // array of 4
    encodeHead(3, context.length),
    context,
    encodeHead(2, protectedHeader.length),
    protectedHeader,
    encodeHead(2, 0), // external_aad: empty byte string
    encodeHead(2, payload.length),
    payload,
  ]);
}

/** A CBOR head in its shortest form, for lengths up to 2^32 - 1. */
function encodeHead(major: number, length: number): Buffer {
  const type = major << 5;
  if (length < 24) return Buffer.from([type | length]);
  if (length < 0x100) return Buffer.from([type | 24, length]);
  if (length < 0x10000) return Buffer.from([type | 25, length >> 8, length & 0xff]);
  const head = Buffer.alloc(5);
  head[0] = type | 26;
  head.writeUInt32BE(length, 1);
  return head;
}
