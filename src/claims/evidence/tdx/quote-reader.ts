/**
 * A bounds-checked, little-endian reader over quote bytes. Every read names the field
 * it reads, so a short or lying input fails with the field that did not fit, never
 * with an out-of-range read or a silently shorter buffer.
 */

/** Thrown for input that does not fit the layout; `message` is safe to log. */
export class QuoteFormatError extends Error {}

/** Reads fields front to back; `subarray` results share memory with the input. */
export class QuoteReader {
  #offset = 0;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /** The next `length` bytes. */
  bytes(length: number, field: string): Buffer {
    if (!Number.isSafeInteger(length) || length < 0 || length > this.remaining) {
      throw new QuoteFormatError(
        `${field}: needs ${length} bytes at offset ${this.#offset}, ${this.remaining} left`,
      );
    }
    const start = this.#offset;
    this.#offset += length;
    return this.#bytes.subarray(start, this.#offset);
  }

  /** The next little-endian 16-bit unsigned integer. */
  u16(field: string): number {
    return this.bytes(2, field).readUInt16LE(0);
  }

  /** The next little-endian 32-bit unsigned integer. */
  u32(field: string): number {
    return this.bytes(4, field).readUInt32LE(0);
  }
}
