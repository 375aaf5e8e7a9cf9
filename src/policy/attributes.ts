import type { Claims } from "../claims/claims.js";

/**
 * What an attribute holds, which decides the operators a policy may apply to it.
 *
 * - `string-list`: a list of strings (`identity.groups`)
 * - `duration`: milliseconds; operands are written `500ms`, `5m`
 * - `version`: a dotted version such as `14.2.1`, compared numerically per component
 * - `ip`: an IPv4 or IPv6 address
 * - `time`: milliseconds since the epoch; operands are ISO-8601 timestamps
 * - `any`: raw verified claims (`device.claims.*`, `tee.claims.*`), checked at run time
 */
export type AttributeType =
  "string" | "string-list" | "boolean" | "number" | "duration" | "version" | "ip" | "time" | "any";

/** Every fixed attribute of the Claims document (DESIGN.md, "Claims") with its type. */
export const ATTRIBUTES = {
  "identity.source": "string",
  "identity.subject": "string",
  "identity.commonName": "string",
  "identity.emails": "string-list",
  "identity.dnsNames": "string-list",
  "identity.spiffeId": "string",
  "identity.groups": "string-list",
  "identity.issuer": "string",
  "identity.certFingerprint": "string",
  "device.id": "string",
  "device.managed": "boolean",
  "device.compliant": "boolean",
  "device.os": "string",
  "device.osVersion": "version",
  "device.diskEncrypted": "boolean",
  "device.firewall": "boolean",
  "device.screenLock": "boolean",
  "device.issuer": "string",
  "device.age": "duration",
  "tee.platform": "string",
  "tee.measurement": "string",
  "tee.debug": "boolean",
  "tee.tcbStatus": "string",
  "tee.svn": "number",
  "tee.issuer": "string",
  "tee.age": "duration",
  "tee.boundToClientCert": "boolean",
  "request.method": "string",
  "request.path": "string",
  "request.host": "string",
  "request.sourceIp": "ip",
  "request.time": "time",
} as const satisfies Record<string, AttributeType>;

/** The roots under which raw verified claims stay reachable by any nested path. */
const DYNAMIC_ROOTS = ["device.claims", "tee.claims"] as const;

/** An attribute name resolved once at load time into a typed accessor. */
export interface CompiledAttribute {
  /** The name as written in the config: `tee.age`, `tee.claims.x-ms-sevsnpvm-hostdata`. */
  readonly name: string;
  readonly type: AttributeType;
  /** Reads the attribute; `undefined` when it (or anything on its path) is absent. */
  readonly read: (claims: Claims) => unknown;
}

/**
 * Compiles an attribute name into an accessor, or returns undefined for an unknown
 * name. The name is split here, once, so that a request only walks a prepared list
 * of property names.
 *
 * `device.claims.a.b` reads `a`, then `b`, of the raw device claims. Only own
 * properties are read, so `__proto__`, `constructor` or `toString` in a path never
 * reach an object's prototype; array elements are reachable by index (`pcrs.0`).
 * `device.claims` itself names the whole raw object (useful with `present`).
 */
export function compileAttribute(name: string): CompiledAttribute | undefined {
  if (Object.hasOwn(ATTRIBUTES, name)) {
    const type = ATTRIBUTES[name as keyof typeof ATTRIBUTES];
    return Object.freeze({ name, type, read: compileAccessor(name.split(".")) });
  }
  const root = DYNAMIC_ROOTS.find((r) => name === r || name.startsWith(`${r}.`));
  if (root === undefined) return undefined;
  const segments = name.split(".");
  // `device.claims..x` or a trailing dot names nothing a claim could hold.
  if (segments.some((segment) => segment === "")) return undefined;
  return Object.freeze({ name, type: "any" as const, read: compileAccessor(segments) });
}

function compileAccessor(names: readonly string[]): (claims: Claims) => unknown {
  const path = Object.freeze([...names]);
  return (claims) => {
    let value: unknown = claims;
    for (let i = 0; i < path.length && value !== undefined; i++) {
      value = readOwn(value, path[i] as string);
    }
    return value;
  };
}

/** Reads an own property only: inherited ones are never claims. */
function readOwn(container: unknown, key: string): unknown {
  if (typeof container !== "object" || container === null) return undefined;
  return Object.hasOwn(container, key) ? (container as Record<string, unknown>)[key] : undefined;
}
