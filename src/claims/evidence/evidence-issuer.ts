import type { EvidencePlatform, EvidenceVerifier } from "./evidence.js";

/** An issuer of kind attestation that verifies raw evidence itself (`evidence:` in the config). */
export interface EvidenceIssuer {
  readonly name: string;
  readonly platform: EvidencePlatform;
  readonly verifier: EvidenceVerifier;
  /** The evidence must carry verigate's binding of a nonce to the client certificate's key. */
  readonly bindToClientCert: boolean;
  /** The evidence must come with a nonce (implied by bindToClientCert). */
  readonly requireNonce: boolean;
  /**
   * Attested TLS without a CA: a self-signed client certificate becomes an identity
   * (source `attestation`) when evidence inside it, verified by this issuer, binds its key.
   */
  readonly acceptSelfSignedCertificates: boolean;
  /** SEV-SNP: the lowest acceptable reported TCB per component; sets tee.tcbStatus UpToDate/OutOfDate. */
  readonly minimumTcb: Readonly<Record<string, number>> | undefined;
}
