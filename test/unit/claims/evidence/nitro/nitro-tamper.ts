/**
 * Tampering with real Nitro documents, for refusal tests: flip a bit at a known
 * place, or re-encode the COSE_Sign1 with a part changed (decoded by the strict
 * decoder, which reads these real documents, and encoded by the tests' own encoder).
 * A re-encoded payload keeps its original signature, which then no longer covers it.
 */
import { CborTag, decodeCbor } from "../../../../../src/claims/evidence/nitro/strict-cbor.js";
import { cbor as encoder } from "../../../../support/cbor-encode.js";

/** Decodes one CBOR item, unwrapping a COSE_Sign1 tag (18) if present. */
const decoder = {
  decode(bytes: Uint8Array): unknown {
    const value = decodeCbor(bytes);
    return value instanceof CborTag ? value.value : value;
  },
};

/** The four parts of a COSE_Sign1, the payload decoded. */
export interface CoseParts {
  protectedHeader: Buffer;
  unprotected: unknown;
  payload: Map<string, unknown>;
  signature: Buffer;
}

/** Decodes `document`, lets `edit` change it, encodes it again. */
export function reencode(document: Buffer, edit: (parts: CoseParts) => void): Buffer {
  const [protectedHeader, unprotected, payload, signature] = decoder.decode(document) as [
    Buffer,
    unknown,
    Buffer,
    Buffer,
  ];
  const parts: CoseParts = {
    protectedHeader,
    unprotected,
    payload: decoder.decode(payload) as Map<string, unknown>,
    signature,
  };
  edit(parts);
  return encoder.encode([
    parts.protectedHeader,
    parts.unprotected,
    encoder.encode(parts.payload),
    parts.signature,
  ]);
}

/** A payload field of `document`, as decoded. */
export function payloadField(document: Buffer, field: string): unknown {
  const [, , payload] = decoder.decode(document) as [Buffer, unknown, Buffer];
  return (decoder.decode(payload) as Map<string, unknown>).get(field);
}

/** A copy of `document` with bit 0 of the byte at `offset` flipped. */
export function flipBit(document: Buffer, offset: number): Buffer {
  const copy = Buffer.from(document);
  copy[offset] = (copy[offset] ?? 0) ^ 1;
  return copy;
}

/** The offset of `needle` in `document`; throws unless it occurs exactly once. */
export function uniqueOffset(document: Buffer, needle: Uint8Array): number {
  const first = document.indexOf(needle);
  if (first < 0 || document.indexOf(needle, first + 1) >= 0) {
    throw new Error("needle does not occur exactly once");
  }
  return first;
}
