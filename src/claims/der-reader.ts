/**
 * A strict DER reader for the small structures verigate reads out of certificate
 * extensions. Strict on purpose: a BER-lenient parser accepts several encodings of
 * one value (indefinite lengths, padded lengths and integers), and two parsers that
 * read one extension differently are how a CA's check and a verifier's reading
 * drift apart. Anything that is not minimal DER throws `DerError`; callers turn that
 * into "no claims", never into a crash.
 */

/** Thrown for any input that is not the expected DER; `message` is safe to log. */
export class DerError extends Error {}

/** Identifier octets of the universal types verigate reads (single-byte tags). */
export const DER_TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  objectIdentifier: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
} as const;

/** Bit 6 of an identifier octet: the element holds further elements. */
const CONSTRUCTED = 0x20;
/** Lengths above this are refused: nothing verigate reads comes close. */
const MAX_LENGTH = 0xffffff;

/** One decoded element: its identifier octet and its content octets. */
export interface DerElement {
  /** The whole identifier octet (class, constructed bit and tag number). */
  readonly tag: number;
  readonly content: Uint8Array;
}

/** True when the identifier octet marks a constructed encoding. */
export function isConstructed(tag: number): boolean {
  return (tag & CONSTRUCTED) !== 0;
}

/** Reads consecutive DER elements from `bytes`, front to back. */
export class DerReader {
  #offset = 0;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** True when every byte has been read. */
  get isDone(): boolean {
    return this.#offset >= this.#bytes.length;
  }

  /** The identifier octet of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.#bytes[this.#offset];
  }

  /** Reads the next element, whatever its tag. */
  read(): DerElement {
    const bytes = this.#bytes;
    const tag = bytes[this.#offset];
    if (tag === undefined) throw new DerError("unexpected end of data");
    // High tag numbers (31 and up) take more identifier octets; none of ours does.
    if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not supported");
    const first = bytes[this.#offset + 1];
    if (first === undefined) throw new DerError("truncated length");
    let length: number;
    let headerLength: number;
    if (first < 0x80) {
      length = first;
      headerLength = 2;
    } else {
      // 0x80 is BER's indefinite length, which DER forbids.
      const count = first & 0x7f;
      if (count === 0) throw new DerError("indefinite length");
      if (count > 3) throw new DerError("length too large");
      length = 0;
      for (let i = 0; i < count; i++) {
        const byte = bytes[this.#offset + 2 + i];
        if (byte === undefined) throw new DerError("truncated length");
        length = length * 256 + byte;
      }
      // DER: the shortest length form, so no leading zero octet and no long form below 128.
      if (length < 0x80 || bytes[this.#offset + 2] === 0) {
        throw new DerError("non-minimal length");
      }
      headerLength = 2 + count;
    }
    if (length > MAX_LENGTH) throw new DerError("length too large");
    const start = this.#offset + headerLength;
    const end = start + length;
    if (end > bytes.length) throw new DerError("content runs past the end of data");
    this.#offset = end;
    return { tag, content: bytes.subarray(start, end) };
  }

  /** Reads the next element and insists on its identifier octet. */
  readTagged(tag: number, what: string): Uint8Array {
    const element = this.read();
    if (element.tag !== tag) {
      throw new DerError(`${what}: expected tag 0x${hex2(tag)}, found 0x${hex2(element.tag)}`);
    }
    return element.content;
  }

  /** Reads the next element, insists on its identifier octet, and returns it whole (identifier, length and content). */
  readEncoded(tag: number, what: string): Uint8Array {
    const start = this.#offset;
    this.readTagged(tag, what);
    return this.#bytes.subarray(start, this.#offset);
  }

  /** Throws unless every byte has been read: trailing data is never ignored. */
  expectEnd(what: string): void {
    if (!this.isDone) throw new DerError(`${what}: trailing data`);
  }
}

/** Decodes `bytes` as exactly one element with identifier octet `tag`, nothing after it. */
export function readSingle(bytes: Uint8Array, tag: number, what: string): Uint8Array {
  const reader = new DerReader(bytes);
  const content = reader.readTagged(tag, what);
  reader.expectEnd(what);
  return content;
}

/**
 * Decodes INTEGER content that must be non-negative and fit a safe integer
 * (security version numbers, layers): a larger one cannot be compared exactly.
 */
export function decodeSafeUnsignedInteger(content: Uint8Array, what: string): number {
  const first = content[0];
  if (first === undefined) throw new DerError(`${what}: empty INTEGER`);
  const second = content[1];
  if (second !== undefined && first === 0 && (second & 0x80) === 0) {
    throw new DerError(`${what}: non-minimal INTEGER`);
  }
  if (second !== undefined && first === 0xff && (second & 0x80) !== 0) {
    throw new DerError(`${what}: non-minimal INTEGER`);
  }
  if ((first & 0x80) !== 0) throw new DerError(`${what}: negative INTEGER`);
  if (content.length > 8) throw new DerError(`${what}: INTEGER too large`);
  let value = 0n;
  for (const byte of content) value = (value << 8n) | BigInt(byte);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new DerError(`${what}: INTEGER too large`);
  return Number(value);
}

/** Decodes OBJECT IDENTIFIER content into dotted form (arcs of any size). */
export function decodeObjectIdentifier(content: Uint8Array, what: string): string {
  if (content.length === 0) throw new DerError(`${what}: empty OBJECT IDENTIFIER`);
  if (content.length > 64) throw new DerError(`${what}: OBJECT IDENTIFIER too long`);
  const arcs: bigint[] = [];
  let value = 0n;
  let isStart = true;
  for (const byte of content) {
    // A subidentifier starting with 0x80 is padded: DER requires the shortest form.
    if (isStart && byte === 0x80) throw new DerError(`${what}: non-minimal OBJECT IDENTIFIER`);
    value = (value << 7n) | BigInt(byte & 0x7f);
    isStart = (byte & 0x80) === 0;
    if (isStart) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (!isStart) throw new DerError(`${what}: truncated OBJECT IDENTIFIER`);
  const [head = 0n, ...rest] = arcs;
  // The first subidentifier packs two arcs: 40 * first + second (first is 0, 1 or 2).
  const firstArc = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [firstArc, head - 40n * firstArc, ...rest].join(".");
}

/** A decoded BIT STRING: its bits, most significant first, as DER numbers them. */
export interface DerBitString {
  /** How many bits the string holds. */
  readonly length: number;
  /** Bit `n` (0 = the most significant bit of the first octet); false past the end. */
  isSet(n: number): boolean;
}

/**
 * Decodes BIT STRING content. Trailing zero bits are accepted (fixed-width encodings
 * of named bit lists are common in DICE certificates), but the unused bits of the
 * last octet must be zero, as DER requires.
 */
export function decodeBitString(content: Uint8Array, what: string): DerBitString {
  const unused = content[0];
  if (unused === undefined) throw new DerError(`${what}: empty BIT STRING`);
  if (unused > 7) throw new DerError(`${what}: invalid BIT STRING`);
  const bits = content.subarray(1);
  const last = bits[bits.length - 1];
  if (last === undefined) {
    if (unused !== 0) throw new DerError(`${what}: invalid BIT STRING`);
  } else if ((last & ((1 << unused) - 1)) !== 0) {
    throw new DerError(`${what}: non-zero unused bits in BIT STRING`);
  }
  const length = bits.length * 8 - unused;
  return {
    length,
    isSet: (n) => n >= 0 && n < length && ((bits[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0,
  };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF8String content; invalid UTF-8 is an error, never replaced. */
export function decodeUtf8(content: Uint8Array, what: string): string {
  try {
    return UTF8.decode(content);
  } catch {
    throw new DerError(`${what}: invalid UTF-8`);
  }
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

const UTC_TIME_TAG = 0x17;
const GENERALIZED_TIME_TAG = 0x18;
const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A certificate time (UTCTime or GeneralizedTime) in the exact forms RFC 5280
 * section 4.1.2.5 allows, as milliseconds since the epoch. `what` names the field in
 * the error. Strict: seconds present, `Z` only, and a date that exists (Date.UTC
 * would roll 31 February over into March).
 */
export function readDerTime(
  element: { readonly tag: number; readonly content: Uint8Array },
  what: string,
): number {
  const text = Buffer.from(element.content).toString("latin1");
  let match: RegExpExecArray | null;
  let year: number;
  if (element.tag === UTC_TIME_TAG && (match = UTC_TIME.exec(text)) !== null) {
    const yy = Number(match[1]);
    // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (
    element.tag === GENERALIZED_TIME_TAG &&
    (match = GENERALIZED_TIME.exec(text)) !== null
  ) {
    year = Number(match[1]);
  } else {
    throw new DerError(`${what}: not a UTCTime or GeneralizedTime in RFC 5280 form`);
  }
  const [month, day, hour, minute, second] = match.slice(2, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(time);
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  ) {
    throw new DerError(`${what}: not a valid time`);
  }
  return time;
}
