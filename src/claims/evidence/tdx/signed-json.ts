/**
 * Intel PCS signs JSON by bytes: a TCB info response is `{"tcbInfo":{...},"signature":"<hex>"}`
 * and the signature covers the exact text of the `tcbInfo` value as served (likewise
 * `enclaveIdentity` for a QE identity). Re-serializing parsed JSON would verify something
 * other than what Intel signed, so this scanner finds the member's exact span in the body
 * text, and the document verigate uses is parsed from those same signed bytes.
 *
 * The scanner is strict RFC 8259 and refuses duplicate member names at every depth: with
 * duplicates, two JSON parsers can disagree on what a document says.
 */

/** Bodies larger than this are refused: a TCB info is about 20 KB. */
export const MAX_SIGNED_JSON_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;

/** A signed PCS document: the exact signed text, its signature, and the text parsed. */
export interface SignedJson {
  readonly signedText: string;
  /** ECDSA P-256 signature r||s (64 bytes). */
  readonly signature: Buffer;
  readonly document: unknown;
}

/** A PCS document as stored: the response body, or the signed text and hex signature apart. */
export type SignedJsonSource =
  string | { readonly signedText: string; readonly signatureHex: string };

/** The outcome of reading a signed document: it, or what is wrong with it. */
export type SignedJsonRead =
  | { readonly ok: true; readonly signed: SignedJson }
  | { readonly ok: false; readonly problem: string };

/**
 * Reads a signed PCS document whose signed member is `member` (`tcbInfo` or
 * `enclaveIdentity`). Never throws.
 */
export function readSignedJson(source: SignedJsonSource, member: string): SignedJsonRead {
  try {
    if (typeof source === "string") return readResponseBody(source, member);
    checkSize(source.signedText, member);
    scanDocument(source.signedText);
    return finish(source.signedText, source.signatureHex, member);
  } catch (e: unknown) {
    if (e instanceof JsonScanError) return { ok: false, problem: `${member}: ${e.message}` };
    throw e;
  }
}

class JsonScanError extends Error {}

function readResponseBody(body: string, member: string): SignedJsonRead {
  checkSize(body, member);
  const members = scanDocument(body);
  const names = [...members.keys()].sort();
  if (names.length !== 2 || !members.has(member) || !members.has("signature")) {
    throw new JsonScanError(
      `the body must hold exactly "${member}" and "signature", found ${JSON.stringify(names)}`,
    );
  }
  const [start, end] = members.get(member) ?? [0, 0];
  const [signatureStart, signatureEnd] = members.get("signature") ?? [0, 0];
  const signatureValue: unknown = JSON.parse(body.slice(signatureStart, signatureEnd));
  if (typeof signatureValue !== "string") throw new JsonScanError("signature is not a string");
  return finish(body.slice(start, end), signatureValue, member);
}

function finish(signedText: string, signatureHex: string, member: string): SignedJsonRead {
  if (!/^[0-9a-fA-F]{128}$/.test(signatureHex)) {
    throw new JsonScanError("signature is not 64 bytes of hex (r||s)");
  }
  const document: unknown = JSON.parse(signedText);
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new JsonScanError(`the signed ${member} is not a JSON object`);
  }
  return {
    ok: true,
    signed: { signedText, signature: Buffer.from(signatureHex, "hex"), document },
  };
}

function checkSize(text: string, member: string): void {
  if (text.length > MAX_SIGNED_JSON_BYTES) {
    throw new JsonScanError(`${member} document larger than ${MAX_SIGNED_JSON_BYTES} characters`);
  }
}

/**
 * Checks that `text` is one JSON object (strict grammar, no duplicate names anywhere)
 * and returns the span [start, end) of each top-level member's value.
 */
function scanDocument(text: string): Map<string, readonly [number, number]> {
  const scanner = new Scanner(text);
  scanner.skipSpace();
  if (text[scanner.offset] !== "{") throw new JsonScanError("not a JSON object");
  const members = scanner.object(0);
  scanner.skipSpace();
  if (scanner.offset !== text.length) {
    throw new JsonScanError(`text after the JSON object at ${scanner.offset}`);
  }
  return members;
}

// eslint-disable-next-line no-control-regex -- JSON strings may not hold raw control characters
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const SPACE = /[ \t\n\r]*/y;
const LITERAL = /true|false|null/y;

class Scanner {
  offset = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  skipSpace(): void {
    SPACE.lastIndex = this.offset;
    SPACE.exec(this.#text);
    this.offset = SPACE.lastIndex;
  }

  /** Scans an object at `offset` ("{"); returns its members' value spans. */
  object(depth: number): Map<string, readonly [number, number]> {
    if (depth > MAX_DEPTH) throw new JsonScanError("nested too deeply");
    const members = new Map<string, readonly [number, number]>();
    this.offset++;
    this.skipSpace();
    if (this.#text[this.offset] === "}") {
      this.offset++;
      return members;
    }
    for (;;) {
      this.skipSpace();
      const name = JSON.parse(this.match(STRING, "a member name")) as string;
      if (members.has(name)) throw new JsonScanError(`duplicate member "${name}"`);
      this.skipSpace();
      this.expect(":");
      this.skipSpace();
      const start = this.offset;
      this.value(depth + 1);
      members.set(name, [start, this.offset]);
      this.skipSpace();
      if (this.#text[this.offset] === ",") {
        this.offset++;
        continue;
      }
      this.expect("}");
      return members;
    }
  }

  value(depth: number): void {
    const char = this.#text[this.offset];
    if (char === "{") {
      this.object(depth);
    } else if (char === "[") {
      this.array(depth);
    } else if (char === '"') {
      this.match(STRING, "a string");
    } else if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) {
      this.match(NUMBER, "a number");
    } else {
      this.match(LITERAL, "a value");
    }
  }

  array(depth: number): void {
    if (depth > MAX_DEPTH) throw new JsonScanError("nested too deeply");
    this.offset++;
    this.skipSpace();
    if (this.#text[this.offset] === "]") {
      this.offset++;
      return;
    }
    for (;;) {
      this.skipSpace();
      this.value(depth + 1);
      this.skipSpace();
      if (this.#text[this.offset] === ",") {
        this.offset++;
        continue;
      }
      this.expect("]");
      return;
    }
  }

  match(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.offset;
    const found = pattern.exec(this.#text);
    if (found === null) throw new JsonScanError(`expected ${what} at ${this.offset}`);
    this.offset = pattern.lastIndex;
    return found[0];
  }

  expect(char: string): void {
    if (this.#text[this.offset] !== char) {
      throw new JsonScanError(`expected "${char}" at ${this.offset}`);
    }
    this.offset++;
  }
}
