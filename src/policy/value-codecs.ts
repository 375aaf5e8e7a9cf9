import { parseDuration } from "../config/duration.js";
import { memoizeText } from "./memo.js";

/**
 * How one kind of value is read on both sides of a comparison: the operand, once,
 * when the policy is compiled, and the claim value on every request. Both sides
 * become the same primitive so that comparisons are plain `===` or `<`: nothing is
 * ever coerced, and a claim value of the wrong type reads as `undefined`, which
 * matches nothing.
 */
export interface ValueCodec<T> {
  /** What a valid operand looks like, for problem messages: `a string`. */
  readonly expected: string;
  /** Reads an operand from the config; undefined when it is not valid. */
  readonly parse: (operand: unknown) => T | undefined;
  /** Reads a claim value; undefined when it is absent or of the wrong type. */
  readonly read: (value: unknown) => T | undefined;
}

/** A codec whose values are ordered, for `lt`, `lte`, `gt` and `gte`. */
export interface OrderedCodec<T> extends ValueCodec<T> {
  /** Negative, zero or positive, like a sort comparator. */
  readonly compare: (a: T, b: T) => number;
}

/** A value `===` can compare; the codecs used with `eq` and `in` produce these. */
export type Scalar = string | number | boolean;

const isString = (value: unknown): value is string => typeof value === "string";
const isFiniteNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);
const asString = (value: unknown): string | undefined => (isString(value) ? value : undefined);
const asNumber = (value: unknown): number | undefined =>
  isFiniteNumber(value) ? value : undefined;
const compareNumbers = (a: number, b: number): number => a - b;

export const STRING: ValueCodec<string> = Object.freeze({
  expected: "a string",
  parse: asString,
  read: asString,
});

export const BOOLEAN: ValueCodec<boolean> = Object.freeze({
  expected: "true or false",
  parse: (value: unknown) => (typeof value === "boolean" ? value : undefined),
  read: (value: unknown) => (typeof value === "boolean" ? value : undefined),
});

/** NaN and infinities are not numbers a policy can mean; they match nothing. */
export const NUMBER: OrderedCodec<number> = Object.freeze({
  expected: "a number",
  parse: asNumber,
  read: asNumber,
  compare: compareNumbers,
});

/**
 * Durations are milliseconds in claims and `500ms`/`5m` in the config. A bare
 * number is refused: `tee.age: { lt: 5 }` could mean seconds or minutes.
 */
export const DURATION: OrderedCodec<number> = Object.freeze({
  expected: 'a duration such as "5m" or "500ms"',
  parse: (value: unknown) => (isString(value) ? parseDuration(value) : undefined),
  read: asNumber,
  compare: compareNumbers,
});

// A time zone is required: a local time would mean different instants on different hosts.
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

/** Epoch milliseconds of an ISO-8601 time; undefined for anything else, `2025-02-30` included. */
function parseIsoTime(text: string): number | undefined {
  const match = ISO_TIME.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Date.parse rolls an impossible day over into the next month instead of refusing it.
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Times are epoch milliseconds in claims and ISO-8601 timestamps in the config. */
export const TIME: OrderedCodec<number> = Object.freeze({
  expected: 'an ISO-8601 time such as "2025-01-31T12:00:00Z"',
  parse: (value: unknown) => {
    // YAML 1.1 loaders turn timestamps into Date objects; accept those too.
    if (value instanceof Date)
      return Number.isFinite(value.getTime()) ? value.getTime() : undefined;
    return isString(value) ? parseIsoTime(value) : undefined;
  },
  read: asNumber,
  compare: compareNumbers,
});

// Components up to 15 digits stay exact as JavaScript numbers.
const VERSION = /^\d{1,15}(?:\.\d{1,15})*$/;
const VERSION_EXPECTED = 'a dotted version such as "14.2.1" (quoted: YAML reads 14.10 as a number)';

/** `14.2.1` -> [14, 2, 1] (frozen, remembered); undefined for anything that is not a dotted version. */
const parseVersionText = memoizeText((text): readonly number[] | undefined =>
  VERSION.test(text) ? Object.freeze(text.split(".").map(Number)) : undefined,
);

function parseVersion(text: unknown): readonly number[] | undefined {
  return isString(text) ? parseVersionText(text) : undefined;
}

/** A whole number is an unambiguous version (`gte: 14`); 14.10 would silently be 14.1. */
function parseVersionOperand(value: unknown): readonly number[] | undefined {
  if (Number.isSafeInteger(value) && (value as number) >= 0) return [value as number];
  return parseVersion(value);
}

/** Missing components count as zero: 14.2 equals 14.2.0 and is below 14.2.1. */
function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length || i < b.length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Versions for ordering, compared numerically per component (14.10 > 14.9). */
export const VERSION_ORDER: OrderedCodec<readonly number[]> = Object.freeze({
  expected: VERSION_EXPECTED,
  parse: parseVersionOperand,
  read: parseVersion,
  compare: compareVersions,
});

/** Drops leading zeros and trailing `.0` components, so that equal versions are equal strings. */
function canonicalVersion(parts: readonly number[] | undefined): string | undefined {
  if (parts === undefined) return undefined;
  let end = parts.length;
  while (end > 1 && parts[end - 1] === 0) end--;
  return parts.slice(0, end).join(".");
}

/** Versions for `eq`/`in`: `14.2` and `14.2.0` are the same version. */
export const VERSION_EQUAL: ValueCodec<string> = Object.freeze({
  expected: VERSION_EXPECTED,
  parse: (value: unknown) => canonicalVersion(parseVersionOperand(value)),
  read: (value: unknown) => canonicalVersion(parseVersion(value)),
});

const asScalar = (value: unknown): Scalar | undefined =>
  isString(value) || isFiniteNumber(value) || typeof value === "boolean" ? value : undefined;

/**
 * Raw claims (`tee.claims.*`) hold whatever the issuer sent. They compare equal
 * only to an operand of the same type and value: `1` never equals `"1"`.
 */
export const ANY_SCALAR: ValueCodec<Scalar> = Object.freeze({
  expected: "a string, number or boolean",
  parse: asScalar,
  read: asScalar,
});
