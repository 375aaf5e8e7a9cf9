/**
 * The real SEV-SNP vectors, read in place from /work/shared/vectors/sev-snp (never
 * copied into the repo), with the clock each must be verified at: every one has a
 * certificate that is not valid today or was not yet valid when others expired.
 */
import { readFile } from "node:fs/promises";
import type { EvidenceInput } from "../../../../../src/claims/evidence/evidence.js";

/** The vectors directory, relative to this file (test/unit/claims/evidence/sev-snp/). */
export const SNP_VECTORS_DIR = new URL(
  "../../../../../../shared/vectors/sev-snp/",
  import.meta.url,
);

/** Names of the six verifiable reports. */
export type SnpVectorName =
  "go-sev-guest" | "virtee-milan" | "gcp-v5" | "gcp-x25519-bound" | "trustee-vcek" | "trustee-vlek";

export interface SnpVector {
  readonly report: string;
  readonly vek: string;
  /** The ASK/ASVK + ARK bundle published with the vector, if any. */
  readonly chain?: string;
  /** A time at which every certificate of the vector is valid. */
  readonly now: number;
}

const JUNE_2025 = Date.parse("2025-06-01T00:00:00Z");
/** The GCP VCEKs were (re)issued on 2025-12-05: any earlier clock finds them not yet valid. */
const JANUARY_2026 = Date.parse("2026-01-01T00:00:00Z");

export const SNP_VECTORS: Readonly<Record<SnpVectorName, SnpVector>> = {
  "go-sev-guest": {
    report: "go-sev-guest/attestation.bin",
    vek: "go-sev-guest/vcek.der",
    now: JUNE_2025,
  },
  "virtee-milan": {
    report: "virtee-sev/report_milan.hex",
    vek: "virtee-sev/vcek_milan.der",
    chain: "virtee-sev/cert_chain_milan.pem",
    now: JUNE_2025,
  },
  "gcp-v5": {
    report: "teekit-gcp/sev-gcp.bin",
    vek: "teekit-gcp/sev-gcp-vcek.pem",
    chain: "teekit-gcp/sev-gcp-cert-chain.pem",
    now: JANUARY_2026,
  },
  "gcp-x25519-bound": {
    report: "teekit-gcp/sev-gcp-x25519-bound.bin",
    vek: "teekit-gcp/sev-gcp-x25519-vcek.pem",
    chain: "teekit-gcp/sev-gcp-x25519-cert-chain.pem",
    now: JANUARY_2026,
  },
  "trustee-vcek": {
    report: "trustee/test-report.bin",
    vek: "trustee/test-vcek.der",
    now: JUNE_2025,
  },
  // The VLEK is valid from 2024-12-10 to 2025-12-10 (vectors README: "before 2025-12-10").
  "trustee-vlek": {
    report: "trustee/test-vlek-report.bin",
    vek: "trustee/test-vlek.der",
    now: JUNE_2025,
  },
};

export const SNP_VECTOR_NAMES = Object.keys(SNP_VECTORS) as SnpVectorName[];

/** Bytes of a vector file (a `.hex` file is decoded, a `.pem` file is NOT: see `readCertificates`). */
export async function readVectorFile(path: string): Promise<Buffer> {
  const bytes = await readFile(new URL(path, SNP_VECTORS_DIR));
  return path.endsWith(".hex")
    ? Buffer.from(bytes.toString("utf8").replace(/\s+/g, ""), "hex")
    : bytes;
}

/** The DER certificates of a `.der` or `.pem` vector file, in file order. */
export async function readCertificates(path: string): Promise<Buffer[]> {
  const bytes = await readFile(new URL(path, SNP_VECTORS_DIR));
  if (!path.endsWith(".pem")) return [bytes];
  return pemBlocks(bytes.toString("utf8"));
}

/** The DER of every CERTIFICATE block in `pem`. */
export function pemBlocks(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) =>
    Buffer.from(block.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ""), "base64"),
  );
}

/** A vector as the verifier receives it: the report, and its VCEK/VLEK alone. */
export async function loadVector(name: SnpVectorName): Promise<EvidenceInput> {
  const vector = SNP_VECTORS[name];
  return {
    evidence: await readVectorFile(vector.report),
    certs: await readCertificates(vector.vek),
  };
}

/** A PEM file of the vectors as text (for `roots` / `intermediates` options). */
export async function readVectorText(path: string): Promise<string> {
  return (await readFile(new URL(path, SNP_VECTORS_DIR))).toString("utf8");
}
