/**
 * Strict readers for the fields of Intel's signed JSON documents. A field that is
 * missing, of the wrong type, of the wrong length or out of range is an error naming
 * its path (`tcbInfo.tcbLevels[2].tcb.pcesvn`); nothing is defaulted, because a
 * defaulted SVN or mask silently changes what a TCB level means.
 */

/** Thrown for a document that is not what Intel's schema says; `message` names the field. */
export class CollateralFormatError extends Error {}

/** A JSON object's members. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** `value` as an object (not null, not an array). */
export function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CollateralFormatError(`${path}: not an object`);
  }
  return value as JsonObject;
}

/** The array member `name`. */
export function readArray(object: JsonObject, name: string, path: string): readonly unknown[] {
  const value = object[name];
  if (!Array.isArray(value)) throw new CollateralFormatError(`${path}.${name}: not an array`);
  return value as readonly unknown[];
}

/** The string member `name`. */
export function readString(object: JsonObject, name: string, path: string): string {
  const value = object[name];
  if (typeof value !== "string") throw new CollateralFormatError(`${path}.${name}: not a string`);
  return value;
}

/** A non-negative integer no larger than `max`. */
export function readUint(object: JsonObject, name: string, path: string, max: number): number {
  const value = object[name];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new CollateralFormatError(`${path}.${name}: not an integer from 0 to ${max}`);
  }
  return value;
}

/** A hex string of exactly `bytes` bytes (either case, as Intel writes both). */
export function readHex(object: JsonObject, name: string, path: string, bytes: number): Buffer {
  const value = readString(object, name, path);
  if (value.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(value)) {
    throw new CollateralFormatError(`${path}.${name}: not ${bytes} bytes of hex`);
  }
  return Buffer.from(value, "hex");
}

/** An RFC 3339 UTC timestamp (`2025-06-19T10:16:03Z`), as ms since the epoch. */
export function readDate(object: JsonObject, name: string, path: string): number {
  const value = readString(object, name, path);
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/.test(value) || Number.isNaN(time)) {
    throw new CollateralFormatError(`${path}.${name}: not a UTC timestamp`);
  }
  return time;
}

/** One of `allowed`. */
export function readEnum<T extends string>(
  object: JsonObject,
  name: string,
  path: string,
  allowed: readonly T[],
): T {
  const value = readString(object, name, path);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CollateralFormatError(`${path}.${name}: unknown value ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * Intel security advisory ids (`INTEL-SA-00837`), optional. They become claims, so their
 * characters are bounded here.
 */
export function readAdvisoryIds(object: JsonObject, path: string): readonly string[] {
  if (object["advisoryIDs"] === undefined) return [];
  const ids = readArray(object, "advisoryIDs", path);
  return ids.map((id, index) => {
    if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new CollateralFormatError(`${path}.advisoryIDs[${index}]: not an advisory id`);
    }
    return id;
  });
}
