/**
 * The verigate claims extension (DESIGN.md, "Where claims come from"): a DER
 * UTF8String holding `{"device": {...}, "tee": {...}}` with the Claims table's
 * attribute names. This module only reads what the extension says; whether anyone
 * vouches for it is decided in `certificate-claims.ts`.
 *
 * All or nothing: one known field of the wrong type refuses the whole extension. A
 * partial reading would let a malformed `debug` silently vanish while the rest of
 * the statement still counted.
 */
import type { DeviceClaims, TeeClaims } from "./claims.js";
import { DER_TAG, DerError, decodeUtf8, readSingle } from "./der-reader.js";

/** OID of the verigate claims extension (a UUID-derived OID under 2.25). */
export const VERIGATE_CLAIMS_OID = "2.25.101496288010563348871718732189662043530";

/** The JSON inside the extension may be at most this many UTF-8 bytes. */
export const MAX_CLAIMS_JSON_BYTES = 8192;

/** What a certificate may say about its device: the posture attributes, and raw extras. */
export type DeviceStatement = Omit<DeviceClaims, "issuer" | "age">;
/** What a certificate may say about its TEE: the attestation attributes, and raw extras. */
export type TeeStatement = Omit<TeeClaims, "issuer" | "age" | "boundToClientCert">;

/** The extension's content, every field checked. A section with no fields is absent. */
export interface VerigateClaimsStatement {
  readonly device?: DeviceStatement;
  readonly tee?: TeeStatement;
  /** Top-level fields other than `device` and `tee`: ignored, and worth a note. */
  readonly ignoredFields: readonly string[];
}

/** The outcome of reading the extension: its statement, or why there is none. */
export type VerigateClaimsResult =
  | { readonly ok: true; readonly statement: VerigateClaimsStatement }
  | { readonly ok: false; readonly problem: string };

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/** The policy's dotted-version syntax (src/policy/value-codecs.ts). */
const VERSION = /^\d{1,15}(?:\.\d{1,15})*$/;
/** Even-length hex of 1 to 128 bytes: digests from SHA-1 to SHA-512 and PCR banks alike. */
const HEX = /^(?:[0-9a-fA-F]{2}){1,128}$/;
const MAX_TEXT_LENGTH = 256;
/** Raw claims nest at most this deep: enough for any real statement, bounded for the reader. */
const MAX_RAW_DEPTH = 16;

type FieldReader = (value: unknown) => unknown;

class WrongField extends Error {}

function text(value: unknown): string {
  if (typeof value !== "string") throw new WrongField("must be a string");
  if (value.length === 0 || value.length > MAX_TEXT_LENGTH) {
    throw new WrongField(`must be 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  // Claim values reach audit lines and the upstream assertion: no CR/LF smuggling.
  if (CONTROL_CHARACTER.test(value)) throw new WrongField("holds a control character");
  return value;
}

function flag(value: unknown): boolean {
  // Only a JSON boolean: "false" as a string is truthy in too many places.
  if (typeof value !== "boolean") throw new WrongField("must be a boolean");
  return value;
}

function version(value: unknown): string {
  if (typeof value !== "string" || !VERSION.test(value)) {
    throw new WrongField('must be a dotted version string such as "6.8.0"');
  }
  return value;
}

function hexDigest(value: unknown): string {
  if (typeof value !== "string" || !HEX.test(value)) {
    throw new WrongField("must be an even-length hex string of 1 to 128 bytes");
  }
  return value.toLowerCase();
}

function unsignedInteger(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new WrongField("must be a non-negative integer");
  }
  return value;
}

/** `undefined`: the name is reserved (verigate sets it), so a certificate may not. */
const DEVICE_FIELDS: Readonly<Record<string, FieldReader | undefined>> = {
  id: text,
  managed: flag,
  compliant: flag,
  os: text,
  osVersion: version,
  diskEncrypted: flag,
  firewall: flag,
  screenLock: flag,
  issuer: undefined,
  age: undefined,
  claims: undefined,
};

const TEE_FIELDS: Readonly<Record<string, FieldReader | undefined>> = {
  platform: text,
  measurement: hexDigest,
  debug: flag,
  tcbStatus: text,
  svn: unsignedInteger,
  issuer: undefined,
  age: undefined,
  boundToClientCert: undefined,
  claims: undefined,
  // tee.claims.dice holds the DICE TcbInfo fields: the JSON must not pose as them.
  dice: undefined,
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks one section against its field table. Unknown fields become raw claims
 * (`claims`), built with `Object.fromEntries` so that a `__proto__` key stays a
 * plain own property.
 */
function readSection(
  section: string,
  value: unknown,
  fields: Readonly<Record<string, FieldReader | undefined>>,
): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) throw new WrongField(`${section} must be an object`);
  const known: [string, unknown][] = [];
  const raw: [string, unknown][] = [];
  for (const [name, fieldValue] of Object.entries(value)) {
    if (!Object.hasOwn(fields, name)) {
      raw.push([name, freezeRaw(fieldValue, `${section}.${name}`, 1)]);
      continue;
    }
    const reader = fields[name];
    if (reader === undefined) {
      throw new WrongField(`${section}.${name} is set by verigate, not by a certificate`);
    }
    try {
      known.push([name, reader(fieldValue)]);
    } catch (error: unknown) {
      if (error instanceof WrongField) throw new WrongField(`${section}.${name} ${error.message}`);
      throw error;
    }
  }
  if (known.length === 0 && raw.length === 0) return undefined;
  const statement = Object.fromEntries(known);
  if (raw.length > 0) statement["claims"] = Object.freeze(Object.fromEntries(raw));
  return Object.freeze(statement);
}

/** Freezes a raw value (JSON.parse output, so no cycles), refusing absurd nesting. */
function freezeRaw(value: unknown, path: string, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth > MAX_RAW_DEPTH) throw new WrongField(`${path} nests deeper than ${MAX_RAW_DEPTH}`);
  for (const inner of Object.values(value)) freezeRaw(inner, path, depth + 1);
  return Object.freeze(value);
}

/**
 * Reads the verigate claims extension from its extnValue content (the bytes inside
 * the extension's OCTET STRING). Never throws: any problem is returned as text.
 */
export function parseVerigateClaimsExtension(value: Uint8Array): VerigateClaimsResult {
  let json: string;
  try {
    if (value.length > MAX_CLAIMS_JSON_BYTES + 4) {
      return { ok: false, problem: `larger than ${MAX_CLAIMS_JSON_BYTES} bytes` };
    }
    const content = readSingle(value, DER_TAG.utf8String, "the value");
    if (content.length > MAX_CLAIMS_JSON_BYTES) {
      return { ok: false, problem: `larger than ${MAX_CLAIMS_JSON_BYTES} bytes` };
    }
    json = decodeUtf8(content, "the UTF8String");
  } catch (error: unknown) {
    if (error instanceof DerError)
      return { ok: false, problem: `not a DER UTF8String: ${error.message}` };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { ok: false, problem: "not valid JSON" };
  }
  if (!isPlainObject(parsed)) return { ok: false, problem: "the JSON is not an object" };
  try {
    const device = Object.hasOwn(parsed, "device")
      ? readSection("device", parsed["device"], DEVICE_FIELDS)
      : undefined;
    const tee = Object.hasOwn(parsed, "tee")
      ? readSection("tee", parsed["tee"], TEE_FIELDS)
      : undefined;
    const ignoredFields = Object.keys(parsed).filter((key) => key !== "device" && key !== "tee");
    const statement: VerigateClaimsStatement = {
      // readSection checked every known field against its reader: the types hold.
      ...(device === undefined ? {} : { device }),
      ...(tee === undefined ? {} : { tee }),
      ignoredFields: Object.freeze(ignoredFields),
    };
    return { ok: true, statement: Object.freeze(statement) };
  } catch (error: unknown) {
    if (error instanceof WrongField) return { ok: false, problem: error.message };
    throw error;
  }
}
