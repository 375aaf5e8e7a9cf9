import type { JWTPayload } from "jose";
import type { ReasonCode } from "../../policy/reasons.js";
import type { DeviceClaims, IdentityClaims, TeeClaims } from "../claims.js";
import type { TokenIssuer } from "./token-issuer.js";
import type { VerifiedToken } from "./verify-token.js";

/** Why a verified token still yields no claims. */
export interface ClaimsRefusal {
  readonly reason: ReasonCode;
  readonly detail: string;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const VERSION = /^\d+(\.\d+)*$/;

function isCleanString(value: unknown): value is string {
  return typeof value === "string" && value !== "" && !CONTROL_CHARACTER.test(value);
}

/**
 * RFC 8705 certificate binding: the token's `cnf["x5t#S256"]` is the base64url
 * SHA-256 of the client certificate verigate verified on this connection.
 */
export function isBoundToCertificate(
  payload: Readonly<JWTPayload>,
  certFingerprintHex: string | undefined,
): boolean {
  if (certFingerprintHex === undefined) return false;
  const cnf = payload["cnf"];
  if (typeof cnf !== "object" || cnf === null || !Object.hasOwn(cnf, "x5t#S256")) return false;
  const thumbprint = (cnf as Record<string, unknown>)["x5t#S256"];
  return thumbprint === Buffer.from(certFingerprintHex, "hex").toString("base64url");
}

/**
 * Identity from a verified OIDC token. The token speaks for `subject`, `issuer`,
 * `groups` and a verified `email`; what the TLS client certificate said about
 * itself (common name, DNS names, SPIFFE ID, fingerprint) stays beside it.
 */
export function identityFromToken(
  token: VerifiedToken,
  issuer: TokenIssuer,
  certificate: IdentityClaims,
): IdentityClaims | ClaimsRefusal {
  const { payload } = token;
  if (!isCleanString(payload.sub))
    return { reason: "token-invalid", detail: "identity token without a usable sub" };
  const groupsValue = Object.hasOwn(payload, issuer.groupsClaim)
    ? payload[issuer.groupsClaim]
    : undefined;
  if (
    groupsValue !== undefined &&
    !(Array.isArray(groupsValue) && groupsValue.every(isCleanString))
  ) {
    return { reason: "token-invalid", detail: `${issuer.groupsClaim} is not a list of strings` };
  }
  const email = payload["email"];
  const emailVerified = payload["email_verified"] !== false;
  return Object.freeze({
    ...certificate,
    source: "token",
    subject: payload.sub,
    issuer: issuer.issuer,
    groups: Object.freeze([...(groupsValue ?? [])]),
    emails: Object.freeze(isCleanString(email) && emailVerified ? [email] : []),
  });
}

const POSTURE_BOOLEANS = [
  "managed",
  "compliant",
  "diskEncrypted",
  "firewall",
  "screenLock",
] as const;

/** What a token's statement says, worked out once per verified token (a cached token is the same object on every use). */
const readStatements = new WeakMap<VerifiedToken, { issuer: TokenIssuer; read: object }>();

function readOnce<T extends object>(token: VerifiedToken, issuer: TokenIssuer, read: () => T): T {
  const known = readStatements.get(token);
  if (known?.issuer === issuer) return known.read as T;
  const fresh = read();
  readStatements.set(token, { issuer, read: Object.freeze(fresh) });
  return fresh;
}

/**
 * Device posture from a verified posture token. verigate's posture token carries
 * the Claims table's names at the top level (`managed`, `compliant`, `os`,
 * `osVersion`, `diskEncrypted`, `firewall`, `screenLock`; `sub` is the device id).
 * A known claim of the wrong type refuses the whole token: no partial posture.
 */
export function deviceFromToken(
  token: VerifiedToken,
  issuer: TokenIssuer,
  now: number,
): DeviceClaims | ClaimsRefusal {
  const read = readOnce(token, issuer, () => readDevice(token, issuer));
  if (isRefusal(read)) return read;
  return Object.freeze({ ...read, age: Math.max(0, now - token.issuedAt) });
}

/** A posture token's device claims, but for `age`. */
function readDevice(
  token: VerifiedToken,
  issuer: TokenIssuer,
): Omit<DeviceClaims, "age"> | ClaimsRefusal {
  const { payload } = token;
  const device: Record<string, unknown> = {};
  for (const name of POSTURE_BOOLEANS) {
    if (!Object.hasOwn(payload, name)) continue;
    if (typeof payload[name] !== "boolean")
      return { reason: "posture-invalid", detail: `${name} is not a boolean` };
    device[name] = payload[name];
  }
  for (const name of ["os", "osVersion"] as const) {
    if (!Object.hasOwn(payload, name)) continue;
    const value = payload[name];
    if (!isCleanString(value) || (name === "osVersion" && !VERSION.test(value))) {
      return {
        reason: "posture-invalid",
        detail: `${name} is not a ${name === "os" ? "string" : "dotted version"}`,
      };
    }
    device[name] = value;
  }
  if (payload.sub !== undefined && !isCleanString(payload.sub)) {
    return { reason: "posture-invalid", detail: "sub is not a device id" };
  }
  return {
    ...device,
    ...(payload.sub === undefined ? {} : { id: payload.sub }),
    issuer: issuer.name,
    claims: payload,
  };
}

/** TEE claims from a verified attestation token, through the issuer's vendor profile. */
export function teeFromToken(
  token: VerifiedToken,
  issuer: TokenIssuer,
  now: number,
  isBound: boolean,
): TeeClaims | ClaimsRefusal {
  const read = readOnce(token, issuer, () => readTee(token, issuer));
  if (isRefusal(read)) return read;
  return Object.freeze({
    ...read,
    age: Math.max(0, now - token.issuedAt),
    boundToClientCert: isBound,
  });
}

/** An attestation token's TEE claims, but for `age` and `boundToClientCert`. */
function readTee(
  token: VerifiedToken,
  issuer: TokenIssuer,
): Omit<TeeClaims, "age" | "boundToClientCert"> | ClaimsRefusal {
  if (issuer.profile === undefined) return { reason: "attestation-invalid", detail: "no profile" };
  const outcome = issuer.profile(token.payload);
  if (!outcome.ok) return { reason: "attestation-invalid", detail: outcome.problem };
  const { platform, measurement, debug, tcbStatus, svn } = outcome.tee;
  return {
    ...(platform === undefined ? {} : { platform }),
    ...(measurement === undefined ? {} : { measurement }),
    ...(debug === undefined ? {} : { debug }),
    ...(tcbStatus === undefined ? {} : { tcbStatus }),
    ...(svn === undefined ? {} : { svn }),
    issuer: issuer.name,
    claims: token.payload,
  };
}

export function isRefusal(value: object): value is ClaimsRefusal {
  return "reason" in value && "detail" in value;
}
