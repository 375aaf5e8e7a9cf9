/**
 * Raw TEE evidence: hardware-signed reports that verigate verifies itself, up to
 * pinned CPU-vendor roots, with no attestation service in the trust chain.
 * Each platform's verifier takes the evidence and "now" from its caller (the real
 * vectors' certificates have expired) and never throws.
 */

export type EvidencePlatform = "sev-snp" | "tdx" | "nitro";

/** What arrives: the evidence bytes and the certificates presented with it. */
export interface EvidenceInput {
  readonly evidence: Buffer;
  /** DER certificates sent alongside (SEV-SNP: the VCEK or VLEK, optionally the ASK); empty for TDX and Nitro. */
  readonly certs: readonly Buffer[];
}

/** Evidence whose signature and certificate chain verigate checked up to a pinned root. */
export interface VerifiedEvidence {
  readonly platform: EvidencePlatform;
  /** SEV-SNP launch measurement, TDX MRTD, Nitro PCR0: lowercase hex. */
  readonly measurement: string;
  /** SEV-SNP policy bit 19, TDX TD attribute bit 0, Nitro PCR0-2 all zero. */
  readonly debug: boolean;
  /** TDX with collateral: the matched TCB level's status; without collateral `unknown`. Others: undefined. */
  readonly tcbStatus: string | undefined;
  /** SEV-SNP guest SVN; TDX and Nitro: undefined. */
  readonly svn: number | undefined;
  /**
   * What the guest bound into the evidence: SEV-SNP and TDX report data (64 bytes),
   * Nitro `user_data` (may be empty). verigate's binding is checked against it.
   */
  readonly reportData: Buffer;
  /** Nitro: the document's `nonce`; SEV-SNP and TDX carry none of their own. */
  readonly nonce: Buffer | undefined;
  /** Nitro: the document's timestamp (ms); SEV-SNP and TDX reports carry no time. */
  readonly producedAt: number | undefined;
  /** Platform claims for `tee.claims` (hex strings, numbers, booleans; JSON-safe). */
  readonly claims: Readonly<Record<string, unknown>>;
}

export type EvidenceOutcome =
  | { readonly ok: true; readonly evidence: VerifiedEvidence }
  | { readonly ok: false; readonly problem: string };

/** A platform's verifier, configured with its pinned roots (and collateral). */
export interface EvidenceVerifier {
  readonly platform: EvidencePlatform;
  verify(input: EvidenceInput, now: number): Promise<EvidenceOutcome>;
}
