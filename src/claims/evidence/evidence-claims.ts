import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ReasonCode } from "../../policy/reasons.js";
import type { TeeClaims } from "../claims.js";
import type { NonceStore } from "../nonces/nonce-store.js";
import { isEvidenceBound } from "./evidence-binding.js";
import type { EvidenceEnvelope } from "./evidence-envelope.js";
import type { VerifiedEvidence } from "./evidence.js";
import type { EvidenceIssuer } from "./evidence-issuer.js";

export interface EvidenceRefusal {
  readonly reason: ReasonCode;
  readonly detail: string;
}

/** What TEE claims from evidence need besides the evidence. */
export interface EvidenceContext {
  /** The TLS client certificate's DER SubjectPublicKeyInfo, when one was verified. */
  readonly spki: Buffer | undefined;
  readonly nonces: NonceStore;
  readonly now: number;
}

/** SEV-SNP TCB against the configured minimum: every listed component at least that. */
function tcbStatusOf(
  evidence: VerifiedEvidence,
  minimum: Readonly<Record<string, number>> | undefined,
): string | undefined {
  if (evidence.tcbStatus !== undefined || minimum === undefined) return evidence.tcbStatus;
  const reported = evidence.claims["reportedTcb"] as Readonly<Record<string, unknown>> | undefined;
  if (reported === undefined) return "unknown";
  const meets = Object.entries(minimum).every(([component, least]) => {
    const value = reported[component];
    return typeof value === "number" && value >= least;
  });
  return meets ? "UpToDate" : "OutOfDate";
}

/**
 * Verified evidence, remembered by the hash of its bytes (the signature and chain
 * checks cost milliseconds; a client may send the same evidence on every request).
 */
export class EvidenceCache {
  readonly #verified = new LRUCache<string, VerifiedEvidence>({ max: 2_000, ttl: 10 * 60_000 });

  async verify(
    envelope: EvidenceEnvelope,
    issuer: EvidenceIssuer,
    now: number,
  ): Promise<VerifiedEvidence | string> {
    const hash = createHash("sha256").update(envelope.evidence);
    for (const cert of envelope.certs) hash.update(cert);
    const key = `${issuer.name}\0${hash.digest("base64url")}`;
    const cached = this.#verified.get(key);
    if (cached !== undefined) return cached;
    const outcome = await issuer.verifier.verify(
      { evidence: envelope.evidence, certs: envelope.certs },
      now,
    );
    if (!outcome.ok) return outcome.problem;
    this.#verified.set(key, outcome.evidence);
    return outcome.evidence;
  }
}

/**
 * TEE claims from raw evidence verigate verified itself. Freshness and binding come
 * from a nonce: evidence that names one must carry verigate's binding of that nonce
 * to this client's key (else it is refused); evidence without one is unbound, and
 * has an age only when it states its own time (Nitro).
 */
export async function teeFromEvidence(
  envelope: EvidenceEnvelope,
  issuer: EvidenceIssuer,
  cache: EvidenceCache,
  context: EvidenceContext,
): Promise<TeeClaims | EvidenceRefusal> {
  const verified = await cache.verify(envelope, issuer, context.now);
  if (typeof verified === "string")
    return { reason: "evidence-invalid", detail: `${issuer.name}: ${verified}` };

  let attestedAt = verified.producedAt;
  let isBound = false;
  if (envelope.nonce !== undefined) {
    if (context.spki === undefined || !isEvidenceBound(verified, envelope.nonce, context.spki)) {
      return {
        reason: "evidence-not-bound",
        detail: `${issuer.name}: report data does not bind the nonce to this client certificate's key`,
      };
    }
    const evidenceId = createHash("sha256").update(envelope.evidence).digest("base64url");
    const redeemed = await context.nonces.redeem(envelope.nonce, evidenceId);
    if (redeemed === undefined)
      return {
        reason: "nonce-invalid",
        detail: `${issuer.name}: unknown, expired or replayed nonce`,
      };
    // The evidence was made after the challenge: its age is at most the nonce's.
    attestedAt = Math.max(attestedAt ?? 0, redeemed.issuedAt);
    isBound = true;
  } else if (issuer.bindToClientCert || issuer.requireNonce) {
    return {
      reason: "evidence-not-bound",
      detail: `${issuer.name}: evidence without a nonce; this issuer requires it bound`,
    };
  }

  const tcbStatus = tcbStatusOf(verified, issuer.minimumTcb);
  return Object.freeze({
    platform: verified.platform,
    measurement: verified.measurement,
    debug: verified.debug,
    ...(tcbStatus === undefined ? {} : { tcbStatus }),
    ...(verified.svn === undefined ? {} : { svn: verified.svn }),
    issuer: issuer.name,
    ...(attestedAt === undefined ? {} : { age: Math.max(0, context.now - attestedAt) }),
    boundToClientCert: isBound,
    claims: verified.claims,
  });
}
