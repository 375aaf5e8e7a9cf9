/**
 * TEE claims from evidence carried inside the TLS client certificate itself
 * ("attested TLS", RA-TLS): the enclave made its key pair, had the hardware sign
 * evidence that names the public key, and put that evidence in its certificate.
 *
 * Security invariants:
 * - Evidence is accepted only when the platform's configured issuer verifies it
 *   AND it binds this certificate's DER SubjectPublicKeyInfo under its carrier's
 *   rule (see `in-certificate/evidence-locations.ts`). Evidence copied into another
 *   certificate vouches for a key the enclave never held, so unbound evidence gives
 *   no claims at all, not weaker ones.
 * - Nothing here throws for any certificate bytes: every refusal is a note.
 * - Certificate evidence has no nonce. Its freshness is its age: from the
 *   certificate's notBefore, or from the Nitro document's own timestamp when that is
 *   older. A policy bounds `tee.age`.
 */
import type { TeeClaims } from "../claims.js";
import type { VerifiedEvidence } from "./evidence.js";
import type { EvidenceIssuer } from "./evidence-issuer.js";
import {
  type EvidenceCandidate,
  findCertificateEvidence,
} from "./in-certificate/evidence-locations.js";
import { type LeafFacts, readLeafFacts } from "./in-certificate/leaf-facts.js";

export type { EvidenceCarrier } from "./in-certificate/evidence-locations.js";

/** TEE claims from certificate-carried evidence: always bound to the client certificate. */
export interface CertificateEvidence {
  readonly tee: TeeClaims & { readonly boundToClientCert: true };
}

/** What the certificate's evidence gave: claims when accepted, and why anything was not. */
export interface CertificateEvidenceOutcome {
  readonly tee?: CertificateEvidence["tee"];
  /** Safe to log; for the audit line, never for the client. */
  readonly notes: readonly string[];
}

/**
 * Finds TEE evidence in the leaf (DER), verifies it with the configured issuer of its
 * platform at `now`, and returns claims only for evidence bound to the leaf's key.
 * Carriers are tried in priority order; the first accepted one wins. A certificate
 * without evidence gives no claims and no notes. Never throws.
 */
export async function evidenceFromCertificate(
  leafDer: Buffer,
  issuers: readonly EvidenceIssuer[],
  now: number,
): Promise<CertificateEvidenceOutcome> {
  const notes: string[] = [];
  try {
    const found = findCertificateEvidence(leafDer);
    notes.push(...found.notes);
    if (found.candidates.length === 0) return freeze(undefined, notes);
    let leaf: LeafFacts;
    try {
      leaf = readLeafFacts(leafDer);
    } catch (e: unknown) {
      notes.push(`certificate: ${describe(e)}`);
      return freeze(undefined, notes);
    }
    for (const candidate of found.candidates) {
      const tee = await acceptCandidate(candidate, leaf, issuers, now, notes);
      if (tee !== undefined) return freeze(tee, notes);
    }
    return freeze(undefined, notes);
  } catch (e: unknown) {
    // Fails closed: an unexpected error is a refusal, never an exception to the caller.
    notes.push(`internal error while reading certificate evidence: ${describe(e)}`);
    return freeze(undefined, notes);
  }
}

async function acceptCandidate(
  candidate: EvidenceCandidate,
  leaf: LeafFacts,
  issuers: readonly EvidenceIssuer[],
  now: number,
  notes: string[],
): Promise<CertificateEvidence["tee"] | undefined> {
  const label = `${candidate.carrier} (${candidate.platform})`;
  const eligible = issuers.filter((issuer) => issuer.platform === candidate.platform);
  if (eligible.length === 0) {
    notes.push(`${label}: no evidence issuer is configured for ${candidate.platform}`);
    return undefined;
  }
  for (const issuer of eligible) {
    const outcome = await issuer.verifier.verify(
      { evidence: candidate.evidence, certs: candidate.certs },
      now,
    );
    if (!outcome.ok) {
      notes.push(`${label}: ${issuer.name}: ${outcome.problem}`);
      continue;
    }
    if (!candidate.isBound(outcome.evidence, leaf.spki)) {
      notes.push(`${label}: ${issuer.name}: evidence does not bind this certificate's public key`);
      // Verification does not depend on the issuer's settings, only on its roots; but
      // binding is a property of the bytes: no other issuer can make it hold.
      return undefined;
    }
    return teeClaims(outcome.evidence, candidate, issuer, leaf, now);
  }
  return undefined;
}

function teeClaims(
  verified: VerifiedEvidence,
  candidate: EvidenceCandidate,
  issuer: EvidenceIssuer,
  leaf: LeafFacts,
  now: number,
): CertificateEvidence["tee"] {
  const attestedAt = Math.min(leaf.notBefore, verified.producedAt ?? leaf.notBefore);
  const tcbStatus = tcbStatusOf(verified, issuer.minimumTcb);
  return Object.freeze({
    platform: verified.platform,
    measurement: verified.measurement,
    debug: verified.debug,
    ...(tcbStatus === undefined ? {} : { tcbStatus }),
    ...(verified.svn === undefined ? {} : { svn: verified.svn }),
    issuer: issuer.name,
    age: Math.max(0, now - attestedAt),
    boundToClientCert: true as const,
    claims: Object.freeze({ ...verified.claims, carriedIn: candidate.carrier }),
  });
}

/** SEV-SNP TCB against the issuer's minimum, as for evidence sent in a header. */
function tcbStatusOf(
  evidence: VerifiedEvidence,
  minimum: Readonly<Record<string, number>> | undefined,
): string | undefined {
  if (evidence.tcbStatus !== undefined || minimum === undefined) return evidence.tcbStatus;
  const reported = evidence.claims["reportedTcb"];
  if (typeof reported !== "object" || reported === null) return "unknown";
  const components = reported as Readonly<Record<string, unknown>>;
  const meets = Object.entries(minimum).every(([component, least]) => {
    const value = components[component];
    return typeof value === "number" && value >= least;
  });
  return meets ? "UpToDate" : "OutOfDate";
}

function freeze(
  tee: CertificateEvidence["tee"] | undefined,
  notes: readonly string[],
): CertificateEvidenceOutcome {
  return Object.freeze(
    tee === undefined
      ? { notes: Object.freeze([...notes]) }
      : { tee, notes: Object.freeze([...notes]) },
  );
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : "unknown error";
}
