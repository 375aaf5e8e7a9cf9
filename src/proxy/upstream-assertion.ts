import type { Claims, DeviceClaims, IdentityClaims, TeeClaims } from "../claims/claims.js";

/** The request header that carries the assertion to the upstream. */
export const ASSERTION_HEADER = "x-verigate-assertion";
/** How long an assertion lives: long enough for one forwarded request, short enough that a leaked one is useless soon. */
export const ASSERTION_SECONDS = 60;
/** `iss` unless the config names another. */
export const DEFAULT_ASSERTION_ISSUER = "verigate";

/** What verigate knows about one forwarded request, as the assertion states it. */
export interface AssertionFacts {
  /** The route's name: the assertion's `aud`. */
  readonly route: string;
  /** The request id (also in `x-request-id`): the assertion's `jti`. */
  readonly requestId: string;
  /** The config snapshot's revision: `rev`. */
  readonly revision: string;
  readonly claims: Claims;
  /** `iss`; defaults to "verigate". */
  readonly issuer?: string;
}

// The allow-lists of what leaves verigate. Raw `claims` blobs (posture and
// attestation documents as their issuers wrote them) are never copied: they may
// hold values no policy vetted, and upstreams should depend on the stable names.
const IDENTITY_FIELDS = [
  "source",
  "subject",
  "issuer",
  "commonName",
  "emails",
  "dnsNames",
  "spiffeId",
  "groups",
  "certFingerprint",
] as const satisfies readonly (keyof IdentityClaims)[];
const DEVICE_FIELDS = [
  "id",
  "managed",
  "compliant",
  "os",
  "osVersion",
  "diskEncrypted",
  "firewall",
  "screenLock",
  "issuer",
] as const satisfies readonly (keyof DeviceClaims)[];
const TEE_FIELDS = [
  "platform",
  "measurement",
  "debug",
  "tcbStatus",
  "svn",
  "issuer",
  "boundToClientCert",
] as const satisfies readonly (keyof TeeClaims)[];

export type AssertedIdentity = Pick<IdentityClaims, (typeof IDENTITY_FIELDS)[number]>;
export type AssertedDevice = Pick<DeviceClaims, (typeof DEVICE_FIELDS)[number] | "age">;
export type AssertedTee = Pick<TeeClaims, (typeof TEE_FIELDS)[number] | "age">;

/** The JWT claims set of an `x-verigate-assertion`. Absent facts are absent members, never null. */
export interface AssertionPayload {
  readonly iss: string;
  readonly aud: string;
  readonly sub?: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  /** `iat` + 60. */
  readonly exp: number;
  readonly jti: string;
  readonly rev: string;
  readonly identity: AssertedIdentity;
  readonly device?: AssertedDevice;
  readonly tee?: AssertedTee;
  /** RFC 8705 certificate binding: base64url SHA-256 of the client certificate's DER. */
  readonly cnf?: { readonly "x5t#S256": string };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function pickPresent<T extends object, K extends keyof T>(
  source: T,
  fields: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const field of fields) {
    const value = source[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

function hasMembers(value: object): boolean {
  for (const _ in value) return true;
  return false;
}

/** What an assertion says of one identity: worked out once per identity object (a connection's is reused by its every request). */
interface IdentityStatement {
  readonly identity: AssertedIdentity;
  readonly sub?: string;
  readonly cnf?: { readonly "x5t#S256": string };
  /** All of it as text: equal for equal statements. */
  readonly text: string;
}

const identityStatements = new WeakMap<IdentityClaims, IdentityStatement>();

function identityStatementOf(identity: IdentityClaims): IdentityStatement {
  const known = identityStatements.get(identity);
  if (known !== undefined) return known;
  const fingerprint = identity.certFingerprint;
  if (fingerprint !== undefined && !SHA256_HEX.test(fingerprint)) {
    // Fails closed: Buffer.from(hex) silently drops bad digits, which would bind
    // the assertion to a certificate nobody holds. claims/ never produces this.
    throw new TypeError("identity.certFingerprint is not a lowercase SHA-256 hex digest");
  }
  const sub = identity.subject ?? identity.spiffeId;
  const asserted = pickPresent(identity, IDENTITY_FIELDS) as AssertedIdentity;
  const cnf =
    fingerprint === undefined
      ? undefined
      : { "x5t#S256": Buffer.from(fingerprint, "hex").toString("base64url") };
  const statement: IdentityStatement = {
    identity: asserted,
    ...(sub === undefined ? {} : { sub }),
    ...(cnf === undefined ? {} : { cnf }),
    text: JSON.stringify([asserted, sub, cnf]),
  };
  // Only a frozen identity is sure to say the same thing next time.
  if (Object.isFrozen(identity)) identityStatements.set(identity, statement);
  return statement;
}

/**
 * What an assertion states apart from its times and id. `device.age` and `tee.age`
 * are kept apart: they change every millisecond, while the rest is the same for
 * every request of one caller on one route.
 */
export interface StatedFacts {
  readonly body: Omit<AssertionPayload, "iat" | "exp" | "jti">;
  /** What `sub`, `identity` and `cnf` say, as text (see IdentityStatement). */
  readonly identityText: string;
  readonly deviceAge?: number;
  readonly teeAge?: number;
}

/** What an assertion for `facts` states, without its times, its id and the ages. */
export function statedFacts(facts: AssertionFacts): StatedFacts {
  const { device, tee } = facts.claims;
  const { identity, sub, cnf, text } = identityStatementOf(facts.claims.identity);
  const assertedDevice = device === undefined ? undefined : pickPresent(device, DEVICE_FIELDS);
  const assertedTee = tee === undefined ? undefined : pickPresent(tee, TEE_FIELDS);
  return {
    body: {
      iss: facts.issuer ?? DEFAULT_ASSERTION_ISSUER,
      aud: facts.route,
      ...(sub === undefined ? {} : { sub }),
      rev: facts.revision,
      identity,
      ...(assertedDevice !== undefined && hasMembers(assertedDevice)
        ? { device: assertedDevice }
        : {}),
      ...(assertedTee !== undefined && hasMembers(assertedTee) ? { tee: assertedTee } : {}),
      ...(cnf === undefined ? {} : { cnf }),
    },
    identityText: text,
    ...(device?.age === undefined ? {} : { deviceAge: device.age }),
    ...(tee?.age === undefined ? {} : { teeAge: tee.age }),
  };
}

/** The claims set of an assertion signed at `now` (milliseconds) with id `jti`. */
export function payloadOf(stated: StatedFacts, jti: string, now: number): AssertionPayload {
  const { body, deviceAge, teeAge } = stated;
  const iat = Math.floor(now / 1000);
  return {
    ...body,
    iat,
    exp: iat + ASSERTION_SECONDS,
    jti,
    ...(body.device === undefined || deviceAge === undefined
      ? {}
      : { device: { ...body.device, age: deviceAge } }),
    ...(body.tee === undefined || teeAge === undefined
      ? {}
      : { tee: { ...body.tee, age: teeAge } }),
  };
}
