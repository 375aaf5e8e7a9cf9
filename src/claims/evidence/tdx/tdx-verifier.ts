/**
 * Verifies raw Intel TDX DCAP quotes up to the Intel SGX Root CA, with no attestation
 * service in the trust chain. In order, for every quote:
 *
 * 1. the quote parses strictly (v4, or v5 with a TDX 1.0 or 1.5 body);
 * 2. the PCK chain inside it (PCK certificate, PCK Platform/Processor CA, root) verifies up
 *    to the pinned root, every certificate valid at `now`;
 * 3. the PCK key signed the QE report;
 * 4. the QE report binds the attestation key: its report data is
 *    SHA-256(attestation key || QE auth data) followed by 32 zero bytes;
 * 5. the QE is Intel's TD QE (collateral's QE identity, else the built-in pin);
 * 6. the attestation key signed the header and TD report;
 * 7. with collateral: none of it is stale at `now`, the PCK certificate and its CA are not
 *    revoked, a TCB info exists for the PCK's FMSPC, the TDX module matches, and the TCB
 *    level gives `tcbStatus`. Without collateral `tcbStatus` is `unknown` and revocation is
 *    not checked.
 *
 * Fails closed: any failure is `{ ok: false, problem }`; nothing throws.
 */
import { type X509Certificate, createHash } from "node:crypto";
import type {
  EvidenceInput,
  EvidenceOutcome,
  EvidenceVerifier,
  VerifiedEvidence,
} from "../evidence.js";
import {
  findExpired,
  loadTrustedRoot,
  verifyChainToRoot,
  type TrustedRoot,
} from "./certificate-chain.js";
import { readCertificateNames } from "./certificate-names.js";
import { importRawP256Key, verifyP256 } from "./ecdsa-p256.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./intel-root.js";
import { readPckPlatform, type PckPlatform } from "./pck-extensions.js";
import { INTEL_TD_QE, matchQeIdentity, type QeStanding } from "./qe-identity.js";
import { readQeReport } from "./qe-report.js";
import { findStaleCrl } from "./revocation-list.js";
import { evaluateTdxTcb } from "./tcb-evaluation.js";
import { buildTdxClaims, type TdxTcbStanding } from "./tdx-claims.js";
import {
  INTEL_PCK_CA_NAMES,
  INTEL_PCK_LEAF_NAMES,
  findStaleDocument,
  isLoadedTdxCollateral,
  spki,
  type TdxCollateral,
} from "./tdx-collateral.js";
import { parseTdxQuote, type TdxQuote } from "./tdx-quote.js";

/** What the TDX verifier trusts. */
export interface TdxVerifierOptions {
  /**
   * PEM of the root CA to trust instead of the pinned Intel SGX Root CA: for test PKIs
   * only (a quote chaining to any other root proves nothing about Intel hardware).
   */
  readonly root?: string;
  /** Collateral from `loadTdxCollateral` (with the same root). Without it, `tcbStatus` is `unknown`. */
  readonly collateral?: TdxCollateral;
}

/** `tcbStatus` when the verifier has no collateral to judge the TCB with. */
export const TCB_STATUS_UNKNOWN = "unknown";

/** Creates the TDX verifier. A bad root or collateral makes every verification fail; it never throws. */
export function createTdxVerifier(options: TdxVerifierOptions = {}): EvidenceVerifier {
  const setup = prepare(options);
  return {
    platform: "tdx",
    verify(input: EvidenceInput, now: number): Promise<EvidenceOutcome> {
      try {
        if (!setup.ok) return Promise.resolve(fail(setup.problem));
        return Promise.resolve(verifyQuote(input, now, setup.root, options.collateral));
      } catch (e: unknown) {
        return Promise.resolve(
          fail(`internal error: ${e instanceof Error ? e.message : String(e)}`),
        );
      }
    },
  };
}

function prepare(
  options: TdxVerifierOptions,
): { ok: true; root: TrustedRoot } | { ok: false; problem: string } {
  try {
    const loaded = loadTrustedRoot(options.root ?? INTEL_SGX_ROOT_CA_PEM);
    if (!loaded.ok) return { ok: false, problem: `configured root: ${loaded.problem}` };
    const collateral = options.collateral;
    if (collateral !== undefined) {
      if (!isLoadedTdxCollateral(collateral)) {
        return { ok: false, problem: "collateral was not made by loadTdxCollateral" };
      }
      if (collateral.rootSha256 !== loaded.root.sha256) {
        return { ok: false, problem: "collateral was verified against another root" };
      }
    }
    return loaded;
  } catch (e: unknown) {
    return { ok: false, problem: `setup: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function verifyQuote(
  input: EvidenceInput,
  now: number,
  root: TrustedRoot,
  collateral: TdxCollateral | undefined,
): EvidenceOutcome {
  if (!Number.isFinite(now)) return fail("now is not a time");
  if (input.certs.length > 0) {
    return fail("a TDX quote carries its certificates inside: certs must be empty");
  }
  const parsed = parseTdxQuote(input.evidence);
  if (!parsed.ok) return fail(parsed.problem);
  const quote = parsed.quote;

  const chain = verifyChainToRoot(quote.pckChain, root, {
    what: "PCK certificate chain",
    leafNames: INTEL_PCK_LEAF_NAMES,
    isLeafCa: false,
    caNames: INTEL_PCK_CA_NAMES,
  });
  if (!chain.ok) return fail(chain.problem);
  const [pck, pckCa] = chain.certificates;
  if (pck === undefined || pckCa === undefined) return fail("PCK certificate chain: incomplete");
  const expired = findExpired([pck, pckCa, root.certificate], now, "PCK certificate chain");
  if (expired !== undefined) return fail(expired);
  if (pck.publicKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    return fail("PCK certificate: key is not EC P-256");
  }

  if (!verifyP256(quote.qeReport, quote.qeReportSignature, pck.publicKey)) {
    return fail("QE report signature does not verify with the PCK certificate's key");
  }
  const qeReport = readQeReport(quote.qeReport);
  const binding = createHash("sha256")
    .update(quote.attestationKey)
    .update(quote.qeAuthData)
    .digest();
  if (!qeReport.reportData.subarray(0, 32).equals(binding)) {
    return fail("QE report data does not bind the attestation key and QE auth data");
  }
  if (qeReport.reportData.subarray(32).some((byte) => byte !== 0)) {
    return fail("QE report data: bytes 32 to 63 are not zero");
  }
  const qe = matchQeIdentity(qeReport, collateral?.qeIdentity ?? INTEL_TD_QE);
  if (!qe.ok) return fail(qe.problem);

  const attestationKey = importRawP256Key(quote.attestationKey);
  if (attestationKey === undefined) return fail("attestation key is not a P-256 point");
  if (!verifyP256(quote.signedBytes, quote.signature, attestationKey)) {
    return fail("quote signature does not verify with the attestation key");
  }

  const platform = readPckPlatform(pck.raw);
  if (!platform.ok) return fail(platform.problem);

  let standing: TdxTcbStanding = { tcbStatus: TCB_STATUS_UNKNOWN, advisoryIds: [] };
  if (collateral !== undefined) {
    const judged = judgeTcb(quote, platform.platform, qe.standing, pck.raw, pckCa, collateral, now);
    if (!judged.ok) return fail(judged.problem);
    standing = judged.standing;
  }
  const evidence: VerifiedEvidence = {
    platform: "tdx",
    measurement: quote.report.mrTd.toString("hex"),
    debug: ((quote.report.tdAttributes[0] ?? 0) & 0x01) !== 0,
    tcbStatus: standing.tcbStatus,
    svn: undefined,
    reportData: Buffer.from(quote.report.reportData),
    nonce: undefined,
    producedAt: undefined,
    claims: buildTdxClaims(quote, platform.platform.fmspc, standing),
  };
  return { ok: true, evidence: Object.freeze(evidence) };
}

/** Revocation, freshness and the TCB level, with collateral. */
function judgeTcb(
  quote: TdxQuote,
  platform: PckPlatform,
  qe: QeStanding,
  pckDer: Buffer,
  pckCa: X509Certificate,
  collateral: TdxCollateral,
  now: number,
): { ok: true; standing: TdxTcbStanding } | { ok: false; problem: string } {
  const fmspc = platform.fmspc.toString("hex");
  const tcbInfo = collateral.tcbInfos.get(fmspc);
  if (tcbInfo === undefined) {
    return { ok: false, problem: `collateral has no TCB info for FMSPC ${fmspc}` };
  }
  const stale =
    findStaleDocument(tcbInfo, now, `TCB info for FMSPC ${fmspc}`) ??
    findStaleDocument(collateral.qeIdentity, now, "QE identity") ??
    findExpired(collateral.signingCertificates, now, "collateral signing certificate") ??
    findStaleCrl(collateral.rootCaCrl, now, "root CA CRL");
  if (stale !== undefined) return { ok: false, problem: stale };

  const pckNames = readCertificateNames(pckDer);
  const caNames = readCertificateNames(pckCa.raw);
  if (collateral.rootCaCrl.revokedSerials.has(caNames.serial)) {
    return { ok: false, problem: "PCK CA certificate is revoked (root CA CRL)" };
  }
  const caKey = spki(pckCa);
  const pckCrl = collateral.pckCrls.find(
    ({ crl, signerSpki }) => crl.issuer.equals(pckNames.issuer) && signerSpki.equals(caKey),
  );
  if (pckCrl === undefined) {
    return { ok: false, problem: "collateral has no CRL from the PCK certificate's CA" };
  }
  const staleCrl = findStaleCrl(pckCrl.crl, now, "PCK CRL");
  if (staleCrl !== undefined) return { ok: false, problem: staleCrl };
  if (pckCrl.crl.revokedSerials.has(pckNames.serial)) {
    return { ok: false, problem: "PCK certificate is revoked (PCK CRL)" };
  }

  const evaluated = evaluateTdxTcb({
    tcbInfo,
    platform,
    report: quote.report,
    qe,
  });
  if (!evaluated.ok) return { ok: false, problem: evaluated.problem };
  return {
    ok: true,
    standing: {
      tcbStatus: evaluated.evaluation.status,
      advisoryIds: evaluated.evaluation.advisoryIds,
    },
  };
}

function fail(problem: string): EvidenceOutcome {
  return { ok: false, problem };
}
