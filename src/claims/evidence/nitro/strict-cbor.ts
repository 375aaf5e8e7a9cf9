/**
 * A strict CBOR (RFC 8949) decoder for the subset a Nitro attestation document uses:
 * integers, byte and text strings, arrays, maps, tags, `false`, `true` and `null`.
 *
 * Strict on purpose, like `der-reader.ts`: a lenient decoder (cbor-x 1.6.9 is one)
 * resolves a duplicate map key by letting the last one win, accepts indefinite
 * lengths, padded integers, invalid UTF-8 (replaced) and `undefined`. Two parsers that
 * read one document differently are how a check and its use drift apart, so anything
 * outside "preferred serialization" of this subset throws `CborError`:
 * - indefinite lengths and the reserved additional-information values 28-30;
 * - integers and lengths not in their shortest form;
 * - floats and simple values other than false, true and null;
 * - map keys other than integers and text, and duplicate map keys;
 * - invalid UTF-8 in text strings;
 * - integers outside the safe integer range (nothing in a document needs them);
 * - nesting deeper than `MAX_CBOR_DEPTH`, and any byte after the one item.
 *
 * Byte strings come back as views into the input (no copy).
 */

/** Thrown for input outside the accepted subset; `message` names the offset and is safe to log. */
export class CborError extends Error {}

/** A decoded map: keys are integers or text, each at most once, in encoding order. */
export type CborMap = ReadonlyMap<number | string, CborValue>;

/** A decoded CBOR data item. */
export type CborValue =
  number | string | Uint8Array | boolean | null | readonly CborValue[] | CborMap | CborTag;

/** A tagged data item (major type 6): the tag number and the item it wraps. */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

/** Nesting bound: a Nitro document nests four deep (COSE array, payload map, pcrs map). */
export const MAX_CBOR_DEPTH = 8;

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;

const SIMPLE_FALSE = 20;
const SIMPLE_TRUE = 21;
const SIMPLE_NULL = 22;

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes `bytes` as exactly one CBOR data item; throws `CborError` otherwise. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const reader = new CborReader(bytes);
  const value = reader.readItem(0);
  if (reader.offset !== bytes.length) {
    throw new CborError(`trailing data at offset ${reader.offset}`);
  }
  return value;
}

/** True for a decoded map (as opposed to an array, a tag or a byte string). */
export function isCborMap(value: CborValue): value is CborMap {
  return value instanceof Map;
}

class CborReader {
  offset = 0;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  readItem(depth: number): CborValue {
    if (depth > MAX_CBOR_DEPTH) throw new CborError(`nesting deeper than ${MAX_CBOR_DEPTH}`);
    const start = this.offset;
    const initial = this.#readByte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) return this.#readSimple(info, start);
    const argument = this.#readArgument(info, start);
    switch (major) {
      case MAJOR_UNSIGNED:
        return argument;
      case MAJOR_NEGATIVE:
        // -1 - argument must stay a safe integer too.
        if (argument === Number.MAX_SAFE_INTEGER) {
          throw new CborError(`integer too large at offset ${start}`);
        }
        return -1 - argument;
      case MAJOR_BYTES:
        return this.#readBytes(argument, start);
      case MAJOR_TEXT:
        return this.#readText(argument, start);
      case MAJOR_ARRAY:
        return this.#readArray(argument, depth, start);
      case MAJOR_MAP:
        return this.#readMap(argument, depth, start);
      case MAJOR_TAG:
        return new CborTag(argument, this.readItem(depth + 1));
      default:
        // Unreachable: a major type is three bits and 7 returned above.
        throw new CborError(`unknown major type at offset ${start}`);
    }
  }

  #readByte(): number {
    const byte = this.#bytes[this.offset];
    if (byte === undefined) throw new CborError(`unexpected end of data at offset ${this.offset}`);
    this.offset += 1;
    return byte;
  }

  /** The head's argument (RFC 8949 section 3): a value, a length or a count. */
  #readArgument(info: number, start: number): number {
    if (info < 24) return info;
    if (info === 31) throw new CborError(`indefinite length at offset ${start}`);
    if (info > 27)
      throw new CborError(`reserved additional information ${info} at offset ${start}`);
    const size = 1 << (info - 24);
    if (this.offset + size > this.#bytes.length) {
      throw new CborError(`truncated head at offset ${start}`);
    }
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.#readByte();
    if (value > Number.MAX_SAFE_INTEGER)
      throw new CborError(`integer too large at offset ${start}`);
    // Preferred serialization: the shortest head that holds the value.
    const smallest = size === 1 ? 24 : 2 ** (8 * (size / 2));
    if (value < smallest) throw new CborError(`non-minimal head at offset ${start}`);
    return value;
  }

  #readSimple(info: number, start: number): CborValue {
    if (info === SIMPLE_FALSE) return false;
    if (info === SIMPLE_TRUE) return true;
    if (info === SIMPLE_NULL) return null;
    if (info === 31) throw new CborError(`unexpected break at offset ${start}`);
    if (info >= 25 && info <= 27) throw new CborError(`float at offset ${start}`);
    throw new CborError(`unsupported simple value at offset ${start}`);
  }

  #take(length: number, start: number): Uint8Array {
    if (length > this.#bytes.length - this.offset) {
      throw new CborError(`string runs past the end of data at offset ${start}`);
    }
    const content = this.#bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return content;
  }

  #readBytes(length: number, start: number): Uint8Array {
    return this.#take(length, start);
  }

  #readText(length: number, start: number): string {
    try {
      return UTF8.decode(this.#take(length, start));
    } catch (error: unknown) {
      if (error instanceof CborError) throw error;
      throw new CborError(`invalid UTF-8 in text string at offset ${start}`);
    }
  }

  #readArray(count: number, depth: number, start: number): CborValue[] {
    // Every item takes at least one byte: a count beyond what is left is a lie, and
    // checking it first keeps a tiny input from asking for a huge array.
    if (count > this.#bytes.length - this.offset) {
      throw new CborError(`array runs past the end of data at offset ${start}`);
    }
    const items: CborValue[] = [];
    for (let i = 0; i < count; i++) items.push(this.readItem(depth + 1));
    return items;
  }

  #readMap(count: number, depth: number, start: number): CborMap {
    if (count * 2 > this.#bytes.length - this.offset) {
      throw new CborError(`map runs past the end of data at offset ${start}`);
    }
    const map = new Map<number | string, CborValue>();
    for (let i = 0; i < count; i++) {
      const keyOffset = this.offset;
      const key = this.readItem(depth + 1);
      if (typeof key !== "number" && typeof key !== "string") {
        throw new CborError(`map key is not an integer or text at offset ${keyOffset}`);
      }
      if (map.has(key)) throw new CborError(`duplicate map key at offset ${keyOffset}`);
      map.set(key, this.readItem(depth + 1));
    }
    return map;
  }
}
