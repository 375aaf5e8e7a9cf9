import type { IncomingHttpHeaders } from "node:http";
import type { JWTPayload } from "jose";
import type { ReasonCode } from "../policy/reasons.js";
import type { Claims, DeviceClaims, IdentityClaims, RequestClaims, TeeClaims } from "./claims.js";
import type { AttestationTokenAuthority } from "./evidence/attestation-token-authority.js";
import {
  teeFromEvidence,
  type EvidenceCache,
  type EvidenceRefusal,
} from "./evidence/evidence-claims.js";
import { parseEvidenceHeader } from "./evidence/evidence-envelope.js";
import type { EvidenceIssuer } from "./evidence/evidence-issuer.js";
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
import type { TokenVerification } from "./tokens/verify-token.js";

/** What the TLS connection proved, parsed once per connection (see connection-claims.ts). */
export interface ConnectionFacts {
  readonly identity: IdentityClaims;
  readonly device?: DeviceClaims;
  readonly tee?: TeeClaims;
  /** Notes for the audit line: certificate claims ignored, and why. */
  readonly notes: readonly string[];
  /** The verified client certificate's DER SubjectPublicKeyInfo: what evidence binds to. */
  readonly spki?: Buffer;
}

/** Where signed tokens and raw evidence are checked, shared by every request of a snapshot. */
export interface ClaimSources {
  readonly issuers: readonly TokenIssuer[];
  readonly verifier: TokenVerifier;
  readonly nonces: NonceStore;
  readonly evidence: readonly EvidenceIssuer[];
  readonly evidenceCache: EvidenceCache;
  /** verigate's own attestation tokens (x-verigate-attestation), from POST /.well-known/verigate/attest. */
  readonly authority: AttestationTokenAuthority;
}

/** The headers verigate reads evidence and its own attestation tokens from. */
export const EVIDENCE_HEADER = "x-tee-evidence";
export const ATTESTATION_TOKEN_HEADER = "x-verigate-attestation";

/**
 * TEE claims verigate verified itself, from its own attestation token or from raw
 * evidence in the request; undefined when the request carries neither.
 */
async function teeVerifiedByVerigate(
  headers: IncomingHttpHeaders,
  connection: ConnectionFacts,
  sources: ClaimSources,
  now: number,
): Promise<{ tee: TeeClaims; consumed: string } | EvidenceRefusal | undefined> {
  const own = headers[ATTESTATION_TOKEN_HEADER];
  if (typeof own === "string" && own !== "") {
    // Two TEE statements, one of them left unverified: refused, never one picked and the other passed on.
    if (headers[EVIDENCE_HEADER] !== undefined) {
      return {
        reason: "malformed-request",
        detail: `both ${ATTESTATION_TOKEN_HEADER} and ${EVIDENCE_HEADER}: send one`,
      };
    }
    const tee = await sources.authority.verify(own, connection.identity.certFingerprint, now);
    return "reason" in tee ? tee : { tee, consumed: ATTESTATION_TOKEN_HEADER };
  }
  const raw = headers[EVIDENCE_HEADER];
  if (typeof raw !== "string" || raw === "") return undefined;
  const envelope = parseEvidenceHeader(raw);
  if (typeof envelope === "string") return { reason: "evidence-invalid", detail: envelope };
  const issuer = sources.evidence.find((candidate) => candidate.platform === envelope.platform);
  if (issuer === undefined)
    return {
      reason: "evidence-invalid",
      detail: `no issuer verifies ${envelope.platform} evidence`,
    };
  const tee = await teeFromEvidence(envelope, issuer, sources.evidenceCache, {
    spki: connection.spki,
    nonces: sources.nonces,
    now,
  });
  return "reason" in tee ? tee : { tee, consumed: EVIDENCE_HEADER };
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
    return redeemed !== undefined
      ? undefined
      : { reason: "nonce-invalid", detail: `${issuer.name}: unknown, expired or replayed nonce` };
  };
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
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
  sources: ClaimSources,
  now: number,
): Promise<ClaimsResult> {
  // TEE claims verigate verified itself come first, before any vendor's token.
  const ownTee =
    headers[ATTESTATION_TOKEN_HEADER] === undefined && headers[EVIDENCE_HEADER] === undefined
      ? undefined
      : await teeVerifiedByVerigate(headers, connection, sources, now);
  if (ownTee !== undefined && "reason" in ownTee) {
    return {
      ok: false,
      reason: ownTee.reason,
      detail: ownTee.detail,
      identity: connection.identity,
    };
  }
  const present = sources.issuers.flatMap((issuer) => {
    const token = tokenIn(headers, issuer);
    return token === undefined ? [] : [{ issuer, token }];
  });
  // Tokens seen before are checked without waiting; only new ones are awaited.
  const known = present.map(({ issuer, token }) => sources.verifier.cached(token, issuer, now));
  const verified: readonly TokenVerification[] = known.every(isDefined)
    ? known
    : await Promise.all(
        present.map(({ issuer, token }, i) => {
          // Counted once: a token found in the cache above is not looked up again.
          const result = known[i];
          return result !== undefined
            ? Promise.resolve(result)
            : sources.verifier.verify(token, issuer, now, redeemNonce(issuer, sources.nonces));
        }),
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
  tee = ownTee?.tee ?? tee ?? connection.tee;
  return {
    ok: true,
    claims: {
      identity: identity ?? connection.identity,
      request,
      ...(device === undefined ? {} : { device }),
      ...(tee === undefined ? {} : { tee }),
    },
    consumedHeaders: [
      ...present.map(({ issuer }) => issuer.header),
      ...(ownTee === undefined ? [] : [ownTee.consumed]),
    ],
    notes: connection.notes,
  };
}
