/**
 * The SEV-SNP `EvidenceVerifier`: raw AMD attestation reports, verified by verigate
 * itself up to the pinned AMD roots, with no attestation service in between.
 *
 * What "verified" means here: the report is well formed; the VCEK (or VLEK) is
 * the kind of key the report names, chains through its ASK (or ASVK) to a pinned
 * ARK with RSASSA-PSS SHA-384 at the injected `now`; its key signed the report;
 * and it was issued for the report's TCB and (VCEK) chip. What it does not mean:
 * that the guest is acceptable. Debug guests, VMPL 1-3 and old TCBs verify; their
 * facts are in the result for policy to judge.
 */
import type {
  EvidenceInput,
  EvidenceOutcome,
  EvidenceVerifier,
  VerifiedEvidence,
} from "../evidence.js";
import { AMD_ARK_PEMS, AMD_INTERMEDIATE_PEMS } from "./amd-roots.js";
import { sevSnpClaims } from "./report-claims.js";
import { createSnpTrustStore, type SnpTrustStore } from "./verify-chain.js";
import { verifySnpReport } from "./verify-report.js";

/** Trust configuration of the SEV-SNP verifier. */
export interface SevSnpVerifierOptions {
  /**
   * PEM ARKs to trust instead of the shipped AMD ARKs (Milan, Genoa, Turin). Each
   * must be a self-signed `ARK-<line>` CA certificate. For tests and private roots.
   */
  readonly roots?: readonly string[];
  /** Additional PEM ASKs/ASVKs; each must be issued by one of the roots. */
  readonly intermediates?: readonly string[];
}

/**
 * Creates the SEV-SNP verifier. Throws on a bad configuration (a root that is not
 * a self-signed ARK, an intermediate that chains to no root): better to refuse to
 * start than to verify against less than intended. `verify` itself never throws.
 */
export function createSevSnpVerifier(options: SevSnpVerifierOptions = {}): EvidenceVerifier {
  const store = createSnpTrustStore(
    options.roots ?? AMD_ARK_PEMS,
    AMD_INTERMEDIATE_PEMS,
    options.intermediates ?? [],
  );
  return {
    platform: "sev-snp",
    verify: (input, now) => Promise.resolve(verifySevSnpEvidence(input, now, store)),
  };
}

function verifySevSnpEvidence(
  input: EvidenceInput,
  now: number,
  store: SnpTrustStore,
): EvidenceOutcome {
  try {
    // The input crossed a process boundary somewhere: check its shape, not just its type.
    if (!(input.evidence instanceof Uint8Array)) return refuse("evidence is not bytes");
    if (!Array.isArray(input.certs) || !input.certs.every((cert) => cert instanceof Uint8Array)) {
      return refuse("certificates are not a list of DER byte strings");
    }
    if (!Number.isFinite(now)) return refuse("no valid time to verify at");
    const outcome = verifySnpReport(input.evidence, input.certs, store, now);
    if (!outcome.ok) return refuse(outcome.problem);
    const { report } = outcome.verified;
    const evidence: VerifiedEvidence = {
      platform: "sev-snp",
      measurement: report.measurement.toString("hex"),
      debug: report.guestPolicy.debug,
      tcbStatus: undefined,
      svn: report.guestSvn,
      reportData: Buffer.from(report.reportData),
      nonce: undefined,
      producedAt: undefined,
      claims: sevSnpClaims(outcome.verified),
    };
    return { ok: true, evidence };
  } catch (e: unknown) {
    // Fails closed: an unexpected error is a refusal, never an exception to the caller.
    return refuse(`internal error while verifying: ${e instanceof Error ? e.message : "unknown"}`);
  }
}

function refuse(problem: string): EvidenceOutcome {
  return { ok: false, problem: `sev-snp: ${problem}` };
}
