/**
 * Verifies an SEV-SNP report end to end, in an order where each step can trust
 * what the previous ones established:
 *
 * 1. the bytes are a report (`parse-report.ts`: size, version, reserved fields);
 * 2. the certificate is the kind of key the report names (VCEK or VLEK), of a known
 *    product line that agrees with the report's CPUID;
 * 3. the certificate chains to a pinned ARK at `now` (`verify-chain.ts`);
 * 4. the certificate's key signed the report;
 * 5. the certificate describes this report: same TCB, same chip (`vek-binding.ts`).
 *
 * Fails closed: the first problem ends verification, and the outcome says which.
 */
import {
  CertificateFormatError,
  parseAmdCertificate,
  type AmdCertificate,
} from "./amd-certificate.js";
import { parseSnpReport, type SnpReport } from "./parse-report.js";
import { type AmdProductLine } from "./product-line.js";
import { isReportSignedBy } from "./report-signature.js";
import type { TcbLayout } from "./tcb-version.js";
import { verifyVekChain, type SnpTrustStore } from "./verify-chain.js";
import {
  chipIdProblem,
  resolveTcbLayout,
  tcbMismatchProblem,
  vekKindProblem,
} from "./vek-binding.js";
import { readVekExtensions, VekExtensionError, type VekExtensions } from "./vek-extensions.js";

/** The most certificates accepted with one report: VEK, ASK/ASVK and ARK. */
export const MAX_SNP_CERTIFICATES = 3;

/** A report whose signature, chain and binding to its certificate all held. */
export interface VerifiedSnpReport {
  readonly report: SnpReport;
  readonly vek: VekExtensions;
  readonly productLine: AmdProductLine;
  readonly tcbLayout: TcbLayout;
}

/** A verified report, or the first problem found. */
export type VerifySnpReportOutcome =
  | { readonly ok: true; readonly verified: VerifiedSnpReport }
  | { readonly ok: false; readonly problem: string };

/**
 * Verifies `evidence` (the 0x4A0-byte report) with `certs` (DER: the VCEK or VLEK
 * first, then optionally its ASK/ASVK and the ARK) against `store` at `now`.
 */
export function verifySnpReport(
  evidence: Uint8Array,
  certs: readonly Uint8Array[],
  store: SnpTrustStore,
  now: number,
): VerifySnpReportOutcome {
  const parsed = parseSnpReport(evidence);
  if (!parsed.ok) return parsed;
  const report = parsed.report;
  const kind = report.signerInfo.signingKey;
  const vekName = kind.toUpperCase();

  const [vekDer, ...otherDers] = certs;
  if (vekDer === undefined)
    return refuse(`no ${vekName} certificate was presented with the report`);
  if (certs.length > MAX_SNP_CERTIFICATES) {
    return refuse(
      `${certs.length} certificates presented; at most ${MAX_SNP_CERTIFICATES} (${vekName}, ASK, ARK)`,
    );
  }
  const vek = readCertificate(vekDer, vekName);
  if (!vek.ok) return vek;
  let extensions: VekExtensions;
  try {
    extensions = readVekExtensions(vek.cert);
  } catch (e: unknown) {
    if (e instanceof VekExtensionError) return refuse(`${vekName} certificate ${e.message}`);
    throw e;
  }
  const kindProblem = vekKindProblem(kind, vek.cert, extensions);
  if (kindProblem !== undefined) return refuse(kindProblem);
  const line = extensions.productLine;
  const layout = resolveTcbLayout(report, line);
  if (!layout.ok) return layout;

  const others: AmdCertificate[] = [];
  for (const [i, der] of otherDers.entries()) {
    const other = readCertificate(der, `certificate ${i + 1}`);
    if (!other.ok) return other;
    others.push(other.cert);
  }
  const chain = verifyVekChain(vek.cert, others, { line, kind }, store, now);
  if (!chain.ok) return chain;

  if (!isReportSignedBy(report, vek.cert.publicKey)) {
    return refuse(`report signature does not verify with the ${vekName}'s key`);
  }
  const tcbProblem = tcbMismatchProblem(report.reportedTcb, layout.layout, extensions.tcb);
  if (tcbProblem !== undefined) return refuse(tcbProblem);
  const chipProblem = chipIdProblem(report, line, extensions.hwId);
  if (chipProblem !== undefined) return refuse(chipProblem);

  return {
    ok: true,
    verified: { report, vek: extensions, productLine: line, tcbLayout: layout.layout },
  };
}

function readCertificate(
  der: Uint8Array,
  what: string,
):
  | { readonly ok: true; readonly cert: AmdCertificate }
  | { readonly ok: false; readonly problem: string } {
  try {
    return { ok: true, cert: parseAmdCertificate(der) };
  } catch (e: unknown) {
    if (e instanceof CertificateFormatError) return refuse(`${what} certificate: ${e.message}`);
    throw e;
  }
}

function refuse(problem: string): { readonly ok: false; readonly problem: string } {
  return { ok: false, problem };
}
