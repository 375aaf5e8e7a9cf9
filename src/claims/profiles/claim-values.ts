/**
 * The strict readers every attestation profile shares: own-property lookup into a verified
 * token payload, and the conversions from vendor encodings to verigate's `tee.*` forms.
 *
 * Security invariants, in words:
 * - Only own properties are read (never `__proto__`, `constructor` or anything inherited),
 *   and only array elements by canonical index (never `length`).
 * - A claim that is absent reads as `undefined`. A claim that is present with the wrong type
 *   or form is a {@link ClaimProblem}, never a guess: `"false"` is not `false`, and a
 *   measurement that is not hex after conversion is not a measurement.
 * - Problems name the claim and the type found, not the value (a value is quoted only when
 *   it is one of a closed set of names, and then JSON-escaped and shortened).
 */
import { Buffer } from "node:buffer";

/** A claim that is present but unusable; a profile turns it into `{ ok: false, problem }`. */
export class ClaimProblem extends Error {
  constructor(claim: string, message: string) {
    super(`${claim}: ${message}`);
    this.name = "ClaimProblem";
  }
}

/** A JSON object (not null, not an array). */
export type ClaimObject = Readonly<Record<string, unknown>>;

const CANONICAL_INDEX = /^(0|[1-9][0-9]*)$/;
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// Vendor status words (`UpToDate`, `azure-compliant-cvm`, `OUT_OF_DATE`, `affirming`):
// short, no spaces, nothing that could break a log line or a header.
const STATUS_TEXT = /^[A-Za-z0-9._:-]{1,64}$/;
// Nonces are echoed text (base64, hex, or a caller's string): printable ASCII only.
const NONCE_TEXT = /^[\x20-\x7e]{1,1024}$/;

/** Whether `value` is a JSON object (not null, not an array). */
export function isClaimObject(value: unknown): value is ClaimObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Names the JSON type of `value`, for problems ("got a string"). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

/** Quotes a value from a closed vocabulary for a problem message: JSON-escaped, at most 40 characters. */
export function quoteValue(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  return JSON.stringify(shown);
}

/** The own property `key` of `object`, or `undefined`: inherited properties are never read. */
export function readOwn(object: ClaimObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** One step of a lookup: an own property of an object, or a canonical index into an array. */
function step(container: unknown, segment: string): unknown {
  if (Array.isArray(container)) {
    if (!CANONICAL_INDEX.test(segment)) return undefined;
    const index = Number(segment);
    return index < container.length ? (container[index] as unknown) : undefined;
  }
  return isClaimObject(container) ? readOwn(container, segment) : undefined;
}

/**
 * Reads the claim at `segments` (each one a literal property name, since vendor claim names
 * may contain dots: `ear.status`), or `undefined` when any step is absent.
 */
export function readClaimAt(root: unknown, segments: readonly string[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    current = step(current, segment);
    if (current === undefined) return undefined;
  }
  return current;
}

/** Reads a dotted claim path (`a.b.0`: own properties, `0` indexes an array). */
export function readClaimPath(root: unknown, dottedPath: string): unknown {
  return readClaimAt(root, dottedPath.split("."));
}

/** A claim that must be an object when present. */
export function readObject(value: unknown, claim: string): ClaimObject | undefined {
  if (value === undefined) return undefined;
  if (!isClaimObject(value))
    throw new ClaimProblem(claim, `expected an object, got ${describeValue(value)}`);
  return value;
}

/** A claim that must be a string when present. */
export function readString(value: unknown, claim: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string")
    throw new ClaimProblem(claim, `expected a string, got ${describeValue(value)}`);
  return value;
}

/** A claim that must be a JSON boolean when present: the strings "true" and "false" are problems. */
export function readBoolean(value: unknown, claim: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean")
    throw new ClaimProblem(claim, `expected a boolean, got ${describeValue(value)}`);
  return value;
}

/** A security version number: a non-negative safe integer (not a numeric string, not 1.5). */
export function readSvn(value: unknown, claim: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new ClaimProblem(
      claim,
      typeof value === "number"
        ? "expected a non-negative integer"
        : `expected a non-negative integer, got ${describeValue(value)}`,
    );
  return value;
}

/** A vendor status word, kept exactly as the vendor wrote it. */
export function readStatusText(value: unknown, claim: string): string | undefined {
  const text = readString(value, claim);
  if (text === undefined) return undefined;
  if (!STATUS_TEXT.test(text))
    throw new ClaimProblem(claim, "expected a status word (1-64 of A-Z a-z 0-9 . _ : -)");
  return text;
}

/**
 * An echoed nonce, as text. An empty string is no nonce (vendors echo `""` when none was
 * asked for); anything but printable ASCII is a problem.
 */
export function readNonce(value: unknown, claim: string): string | undefined {
  const text = readString(value, claim);
  if (text === undefined || text === "") return undefined;
  if (!NONCE_TEXT.test(text))
    throw new ClaimProblem(claim, "expected a nonce of 1-1024 printable ASCII characters");
  return text;
}

/**
 * An EAT `eat_nonce` (RFC 9711, JSON form): a string, or an array of strings. verigate checks
 * exactly one nonce, so an array must hold exactly one; several nonces are a problem rather
 * than a choice made for the caller.
 */
export function readEatNonce(value: unknown, claim: string): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return readNonce(value, claim);
  if (value.length !== 1)
    throw new ClaimProblem(
      claim,
      `expected one nonce, got an array of ${value.length} (verigate checks exactly one)`,
    );
  return readNonce(value[0], `${claim}.0`);
}

/** One place a token may echo a nonce, already read. */
export interface NonceCandidate {
  readonly claim: string;
  readonly value: string | undefined;
}

/**
 * The nonce when every place that echoes one agrees; `undefined` when none does.
 * Two different nonces in one token are a problem: picking one would be a guess.
 */
export function resolveNonce(candidates: readonly NonceCandidate[]): string | undefined {
  const present = candidates.filter((c) => c.value !== undefined);
  const [first] = present;
  if (first === undefined) return undefined;
  if (present.some((c) => c.value !== first.value))
    throw new ClaimProblem(
      present.map((c) => c.claim).join(", "),
      "the token echoes different nonces",
    );
  return first.value;
}

function checkLength(bytes: number, expected: readonly number[] | undefined, claim: string): void {
  if (bytes === 0) throw new ClaimProblem(claim, "expected a non-empty digest");
  if (expected !== undefined && !expected.includes(bytes))
    throw new ClaimProblem(claim, `expected ${expected.join(" or ")} bytes, got ${bytes}`);
}

/**
 * A measurement written as hex (either case), returned as lowercase hex. `bytes` lists the
 * acceptable lengths (a SHA-384 launch digest is 48 bytes); omitted, any non-empty length.
 */
export function readHex(
  value: unknown,
  claim: string,
  bytes?: readonly number[],
): string | undefined {
  const text = readString(value, claim);
  if (text === undefined) return undefined;
  if (!HEX.test(text) || text.length % 2 !== 0)
    throw new ClaimProblem(claim, "expected hex digits (an even number of 0-9 a-f)");
  checkLength(text.length / 2, bytes, claim);
  return text.toLowerCase();
}

/** Decodes canonical base64 or base64url (padded or not); `undefined` when `text` is neither. */
function decodeBase64(text: string): Buffer | undefined {
  if (BASE64.test(text)) {
    const decoded = Buffer.from(text, "base64");
    // Node's decoder skips what it does not understand; only a round trip proves the form.
    const canonical = decoded.toString("base64");
    if (canonical === text || canonical.replace(/=+$/, "") === text) return decoded;
    return undefined;
  }
  if (BASE64URL.test(text)) {
    const decoded = Buffer.from(text, "base64url");
    return decoded.toString("base64url") === text ? decoded : undefined;
  }
  return undefined;
}

/** A measurement written as base64 or base64url (canonical form only), returned as lowercase hex. */
export function readBase64AsHex(
  value: unknown,
  claim: string,
  bytes?: readonly number[],
): string | undefined {
  const text = readString(value, claim);
  if (text === undefined) return undefined;
  const decoded = decodeBase64(text);
  if (decoded === undefined) throw new ClaimProblem(claim, "expected canonical base64");
  checkLength(decoded.length, bytes, claim);
  return decoded.toString("hex");
}

/**
 * A fixed-size measurement that one vendor writes as hex and another as base64. Text made of
 * hex digits only is read as hex and must be exactly `bytes * 2` digits; anything else must be
 * canonical base64 of exactly `bytes` bytes. (Base64 of a real digest practically never
 * consists of hex digits only; if it did, the result would be a problem, not a wrong value.)
 */
export function readHexOrBase64AsHex(
  value: unknown,
  claim: string,
  bytes: number,
): string | undefined {
  const text = readString(value, claim);
  if (text === undefined) return undefined;
  const problem = new ClaimProblem(claim, `expected ${bytes} bytes as hex or canonical base64`);
  if (HEX.test(text)) {
    if (text.length !== bytes * 2) throw problem;
    return text.toLowerCase();
  }
  const decoded = decodeBase64(text);
  if (decoded === undefined || decoded.length !== bytes) throw problem;
  return decoded.toString("hex");
}

/** A content digest written `sha256:<64 hex digits>` (OCI image digests), returned as lowercase hex. */
export function readSha256DigestAsHex(value: unknown, claim: string): string | undefined {
  const text = readString(value, claim);
  if (text === undefined) return undefined;
  const match = /^sha256:([0-9a-fA-F]{64})$/.exec(text);
  if (match?.[1] === undefined)
    throw new ClaimProblem(claim, 'expected "sha256:" followed by 64 hex digits');
  return match[1].toLowerCase();
}

/**
 * An EAT `dbgstat` (RFC 9711) in its JSON text form: `enabled` is debug on; the four
 * `disabled...` states are debug off; any other value is a problem.
 */
export function readDbgstat(value: unknown, claim: string): boolean | undefined {
  const text = readString(value, claim);
  if (text === undefined) return undefined;
  switch (text) {
    case "enabled":
      return true;
    case "disabled":
    case "disabled-since-boot":
    case "disabled-permanently":
    case "disabled-fully-and-permanently":
      return false;
    default:
      throw new ClaimProblem(claim, `unknown debug status ${quoteValue(text)}`);
  }
}

/**
 * Combines every debug statement a token makes about one TEE. Fails closed: any `true`
 * wins; `false` only when at least one claim says so and none says otherwise; `undefined`
 * when the token says nothing (never a guessed `false`).
 */
export function combineDebug(...statements: readonly (boolean | undefined)[]): boolean | undefined {
  if (statements.includes(true)) return true;
  return statements.includes(false) ? false : undefined;
}

/**
 * The claims of one JSON object in a token, read by name with the converters above. `at`
 * is the object's place in the token (`x-ms-isolation-tee.`), so problems name the full claim.
 */
export class ClaimReader {
  readonly #object: ClaimObject;
  readonly #at: string;

  private constructor(object: ClaimObject, at: string) {
    this.#object = object;
    this.#at = at;
  }

  /** A reader over `value`, which must be an object (`claim` names it in the problem). */
  static of(value: unknown, claim: string, at = ""): ClaimReader {
    if (!isClaimObject(value))
      throw new ClaimProblem(claim, `expected an object, got ${describeValue(value)}`);
    return new ClaimReader(value, at);
  }

  /** The full name of the claim `name` of this object, as problems write it. */
  claim(name: string): string {
    return `${this.#at}${name}`;
  }

  /** The raw own property `name`, unconverted. */
  value(name: string): unknown {
    return readOwn(this.#object, name);
  }

  /** Whether the own property `name` exists (whatever its value). */
  has(name: string): boolean {
    return Object.hasOwn(this.#object, name);
  }

  /** The own property names, in the object's order. */
  names(): string[] {
    return Object.keys(this.#object);
  }

  /** A reader over the nested object `name`, or `undefined` when absent. */
  object(name: string): ClaimReader | undefined {
    const value = this.value(name);
    if (value === undefined) return undefined;
    return ClaimReader.of(value, this.claim(name), `${this.claim(name)}.`);
  }

  string(name: string): string | undefined {
    return readString(this.value(name), this.claim(name));
  }

  boolean(name: string): boolean | undefined {
    return readBoolean(this.value(name), this.claim(name));
  }

  svn(name: string): number | undefined {
    return readSvn(this.value(name), this.claim(name));
  }

  status(name: string): string | undefined {
    return readStatusText(this.value(name), this.claim(name));
  }

  nonce(name: string): string | undefined {
    return readNonce(this.value(name), this.claim(name));
  }

  eatNonce(name: string): string | undefined {
    return readEatNonce(this.value(name), this.claim(name));
  }

  dbgstat(name: string): boolean | undefined {
    return readDbgstat(this.value(name), this.claim(name));
  }

  hex(name: string, bytes?: readonly number[]): string | undefined {
    return readHex(this.value(name), this.claim(name), bytes);
  }

  base64AsHex(name: string, bytes?: readonly number[]): string | undefined {
    return readBase64AsHex(this.value(name), this.claim(name), bytes);
  }

  hexOrBase64AsHex(name: string, bytes: number): string | undefined {
    return readHexOrBase64AsHex(this.value(name), this.claim(name), bytes);
  }

  sha256DigestAsHex(name: string): string | undefined {
    return readSha256DigestAsHex(this.value(name), this.claim(name));
  }
}
