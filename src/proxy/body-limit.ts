import { Transform, type TransformCallback } from "node:stream";

/**
 * Passes a request body through while it stays within `maxBytes`. The first chunk
 * that would cross the limit is not passed on: `onExceeded` runs once (it aborts
 * the upstream request, so the upstream never sees a body cut short as if it were
 * whole) and the rest of the body is read and dropped.
 */
export class BodyLimit extends Transform {
  #bytes = 0;
  #exceeded = false;
  readonly #maxBytes: number;
  readonly #onExceeded: () => void;

  constructor(maxBytes: number, onExceeded: () => void) {
    super();
    this.#maxBytes = maxBytes;
    this.#onExceeded = onExceeded;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#exceeded) return done();
    this.#bytes += chunk.length;
    if (this.#bytes <= this.#maxBytes) return done(null, chunk);
    this.#exceeded = true;
    this.#onExceeded();
    done();
  }
}
