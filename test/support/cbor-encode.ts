/**
 * A small CBOR encoder (RFC 8949, deterministic: shortest heads, definite lengths)
 * for the tests that build COSE documents and CBOR-carrying certificates. It covers
 * what those need: unsigned and negative integers (number or bigint), float64, byte
 * and text strings, arrays, Maps, booleans, null and tags. The product only ever decodes CBOR,
 * with its strict decoder (src/claims/evidence/nitro/strict-cbor.ts).
 */

/** A tagged item; the argument order matches cbor-x's `Tag(value, tag)`. */
export class Tag {
  constructor(
    readonly value: unknown,
    readonly tag: number,
  ) {}
}

function head(major: number, length: number | bigint): Buffer {
  const n = BigInt(length);
  const m = major << 5;
  if (n < 24n) return Buffer.from([m | Number(n)]);
  if (n < 0x100n) return Buffer.from([m | 24, Number(n)]);
  if (n < 0x10000n) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(Number(n), 1);
    return b;
  }
  if (n < 0x100000000n) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(Number(n), 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(n, 1);
  return b;
}

/** Encodes a value; throws on anything outside the subset above (a plain object, a symbol). */
export function encodeCbor(value: unknown): Buffer {
  if (value === null || value === undefined) return Buffer.from([0xf6]);
  if (value === false) return Buffer.from([0xf4]);
  if (value === true) return Buffer.from([0xf5]);
  if (typeof value === "number" || typeof value === "bigint") {
    if (typeof value === "number" && !Number.isInteger(value)) {
      // float64, for tests that check floats are refused
      const b = Buffer.alloc(9);
      b[0] = 0xfb;
      b.writeDoubleBE(value, 1);
      return b;
    }
    const n = BigInt(value);
    return n >= 0n ? head(0, n) : head(1, -1n - n);
  }
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (value instanceof Tag) return Buffer.concat([head(6, value.tag), encodeCbor(value.value)]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(encodeCbor)]);
  if (value instanceof Map) {
    const parts: Buffer[] = [head(5, value.size)];
    for (const [k, v] of value as Map<unknown, unknown>) parts.push(encodeCbor(k), encodeCbor(v));
    return Buffer.concat(parts);
  }
  throw new Error(`cannot encode ${typeof value}`);
}

/** For code written against cbor-x's `new Encoder(...).encode`. */
export const cbor = { encode: encodeCbor };
