import { errors, jwtVerify, type JWTPayload } from "jose";
import type { ReasonCode } from "../../policy/reasons.js";
import type { TokenIssuer } from "./token-issuer.js";

/** A token whose signature and times verigate checked against the issuer's configuration. */
export interface VerifiedToken {
  readonly payload: Readonly<JWTPayload>;
  /** `iat` in milliseconds. */
  readonly issuedAt: number;
  /** `exp` in milliseconds. */
  readonly expiresAt: number;
}

export type TokenVerification =
  | { readonly ok: true; readonly token: VerifiedToken }
  | { readonly ok: false; readonly reason: ReasonCode; readonly detail: string };

/** Tokens past this size are refused unread (headers are bounded anyway; this bounds the work). */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** jose errors that describe the token itself; anything else from a remote key source means the keys could not be had. */
const TOKEN_ERRORS = new Set([
  "ERR_JWT_CLAIM_VALIDATION_FAILED",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
  "ERR_JOSE_NOT_SUPPORTED",
]);

function classify(error: unknown, issuer: TokenIssuer): { reason: ReasonCode; detail: string } {
  if (error instanceof errors.JWTExpired)
    return { reason: "token-expired", detail: "exp is in the past" };
  if (error instanceof errors.JOSEError && TOKEN_ERRORS.has(error.code)) {
    const claim = error instanceof errors.JWTClaimValidationFailed ? ` (${error.claim})` : "";
    return { reason: "token-invalid", detail: `${error.code}${claim}: ${error.message}` };
  }
  // Fails closed either way: a key source that cannot answer denies, with 503.
  const code =
    error instanceof errors.JOSEError ? error.code : error instanceof Error ? error.name : "error";
  const message = error instanceof Error ? error.message : String(error);
  return { reason: "key-source-unavailable", detail: `${issuer.keys.origin}: ${code}: ${message}` };
}

/**
 * Verifies a compact JWS token against one issuer: its keys only (a `jku`, `x5u`
 * or embedded `jwk` in the token is never used), its pinned asymmetric algorithms,
 * `iss`, `aud`, required `exp` and `iat`, bounded skew, `iat` not in the future,
 * and `maxAge`. jose accepts a future `iat` by itself: checked here.
 */
export async function verifyToken(
  token: string,
  issuer: TokenIssuer,
  now: number,
): Promise<TokenVerification> {
  if (token.length > MAX_TOKEN_LENGTH)
    return { ok: false, reason: "token-invalid", detail: "token too large" };
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, issuer.keys.getKey, {
      algorithms: [...issuer.algorithms],
      issuer: issuer.issuer,
      ...(issuer.audience === undefined ? {} : { audience: [issuer.audience].flat() }),
      requiredClaims: ["exp", "iat"],
      clockTolerance: issuer.skewMs / 1000,
      currentDate: new Date(now),
    }));
  } catch (error: unknown) {
    return { ok: false, ...classify(error, issuer) };
  }
  const verified: VerifiedToken = Object.freeze({
    payload: Object.freeze(payload),
    issuedAt: (payload.iat ?? 0) * 1000,
    expiresAt: (payload.exp ?? 0) * 1000,
  });
  const late = checkTokenTimes(verified, issuer, now);
  return late === undefined ? { ok: true, token: verified } : { ok: false, ...late };
}

/**
 * The time checks a verified token must pass on every use, not only the first:
 * not expired, `iat` not ahead of the clock, not older than `maxAge`.
 */
export function checkTokenTimes(
  token: VerifiedToken,
  issuer: TokenIssuer,
  now: number,
): { reason: ReasonCode; detail: string } | undefined {
  if (now >= token.expiresAt + issuer.skewMs)
    return { reason: "token-expired", detail: "exp is in the past" };
  if (token.issuedAt > now + issuer.skewMs) {
    return {
      reason: "token-issued-in-future",
      detail: `iat ${token.issuedAt / 1000} is ahead of the clock`,
    };
  }
  if (issuer.maxAgeMs !== undefined && now - token.issuedAt > issuer.maxAgeMs + issuer.skewMs) {
    return { reason: "token-too-old", detail: `iat ${token.issuedAt / 1000} is older than maxAge` };
  }
  return undefined;
}
