import type { IncomingHttpHeaders } from "node:http";
import type { JWTPayload } from "jose";
import type { ReasonCode } from "../policy/reasons.js";
import type { Claims, DeviceClaims, IdentityClaims, RequestClaims, TeeClaims } from "./claims.js";
import type { NonceStore } from "./nonces/nonce-store.js";
import { readClaimPath } from "./profiles/claim-values.js";
import {
  deviceFromToken,
  identityFromToken,
  isBoundToCertificate,
  isRefusal,
  teeFromToken,
} from "./tokens/token-claims.js";
import type { TokenIssuer } from "./tokens/token-issuer.js";
import type { FirstUseCheck, TokenVerifier } from "./tokens/token-verifier.js";

/** What the TLS connection proved, parsed once per connection (see connection-claims.ts). */
export interface ConnectionFacts {
  readonly identity: IdentityClaims;
  readonly device?: DeviceClaims;
  readonly tee?: TeeClaims;
  /** Notes for the audit line: certificate claims ignored, and why. */
  readonly notes: readonly string[];
}

/** Where signed tokens are checked, shared by every request of a snapshot. */
export interface TokenSources {
  readonly issuers: readonly TokenIssuer[];
  readonly verifier: TokenVerifier;
  readonly nonces: NonceStore;
}

export type ClaimsResult =
  | {
      readonly ok: true;
      readonly claims: Claims;
      /** Headers whose tokens verigate consumed: they are not forwarded. */
      readonly consumedHeaders: readonly string[];
      readonly notes: readonly string[];
    }
  | {
      readonly ok: false;
      readonly reason: ReasonCode;
      readonly detail: string;
      readonly identity: IdentityClaims;
    };

const BEARER_SCHEME = /^Bearer(?:[ \t]|$)/i;
const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;

/**
 * The token an issuer's header carries, if any. `Authorization` is verigate's only
 * in the Bearer scheme (Basic and others are the app's, and pass); a malformed
 * Bearer credential is handed on whole, so that it fails verification (401)
 * instead of passing as "no token" and reaching the upstream unverified.
 */
function tokenIn(headers: IncomingHttpHeaders, issuer: TokenIssuer): string | undefined {
  const value = headers[issuer.header];
  if (typeof value !== "string" || value === "") return undefined;
  if (issuer.header !== "authorization") return value.trim();
  if (!BEARER_SCHEME.test(value)) return undefined;
  return BEARER.exec(value)?.[1] ?? value;
}

/** The nonce a token echoes: at the configured claim path, or where its profile says. */
function nonceOf(payload: Readonly<JWTPayload>, issuer: TokenIssuer): string | undefined {
  if (issuer.nonceClaim !== undefined) {
    const value = readClaimPath(payload, issuer.nonceClaim);
    return typeof value === "string" ? value : undefined;
  }
  const outcome = issuer.profile?.(payload);
  return outcome?.ok === true ? outcome.tee.nonce : undefined;
}

function redeemNonce(issuer: TokenIssuer, nonces: NonceStore): FirstUseCheck {
  return async (token, tokenId) => {
    const nonce = nonceOf(token.payload, issuer);
    if (nonce === undefined) {
      return issuer.requireNonce
        ? { reason: "nonce-invalid", detail: `${issuer.name}: no nonce in the token` }
        : undefined;
    }
    const redeemed = await nonces.redeem(nonce, tokenId);
    return redeemed
      ? undefined
      : { reason: "nonce-invalid", detail: `${issuer.name}: unknown, expired or replayed nonce` };
  };
}

/**
 * Builds the request's Claims: the connection's certificate facts, then every
 * signed token present in an issuer's header. A present token must verify: one
 * that does not refuses the request (401, or 503 when its keys cannot be had),
 * even where the route would not have needed it. A token's claims replace the
 * certificate's claims of the same kind; the first issuer (in config order) of a
 * kind wins when several tokens of that kind arrive.
 */
export async function buildClaims(
  headers: IncomingHttpHeaders,
  connection: ConnectionFacts,
  request: RequestClaims,
  sources: TokenSources,
  now: number,
): Promise<ClaimsResult> {
  const present = sources.issuers.flatMap((issuer) => {
    const token = tokenIn(headers, issuer);
    return token === undefined ? [] : [{ issuer, token }];
  });
  const verified = await Promise.all(
    present.map(({ issuer, token }) =>
      sources.verifier.verify(token, issuer, now, redeemNonce(issuer, sources.nonces)),
    ),
  );

  const fingerprint = connection.identity.certFingerprint;
  let identity: IdentityClaims | undefined;
  let device: DeviceClaims | undefined;
  let tee: TeeClaims | undefined;
  for (const [i, result] of verified.entries()) {
    const { issuer } = present[i] as (typeof present)[number];
    const refuse = (reason: ReasonCode, detail: string): ClaimsResult => ({
      ok: false,
      reason,
      detail: `${issuer.name}: ${detail}`,
      identity: connection.identity,
    });
    if (!result.ok) return refuse(result.reason, result.detail);
    const isBound = isBoundToCertificate(result.token.payload, fingerprint);
    if (issuer.bindToClientCert && !isBound) {
      return refuse("token-not-bound", "cnf x5t#S256 does not match the client certificate");
    }
    const claims =
      issuer.kind === "identity"
        ? identityFromToken(result.token, issuer, connection.identity)
        : issuer.kind === "posture"
          ? deviceFromToken(result.token, issuer, now)
          : teeFromToken(result.token, issuer, now, isBound);
    if (isRefusal(claims)) return refuse(claims.reason, claims.detail);
    if (issuer.kind === "identity") identity ??= claims as IdentityClaims;
    else if (issuer.kind === "posture") device ??= claims as DeviceClaims;
    else tee ??= claims as TeeClaims;
  }

  device ??= connection.device;
  tee ??= connection.tee;
  return {
    ok: true,
    claims: {
      identity: identity ?? connection.identity,
      request,
      ...(device === undefined ? {} : { device }),
      ...(tee === undefined ? {} : { tee }),
    },
    consumedHeaders: present.map(({ issuer }) => issuer.header),
    notes: connection.notes,
  };
}
