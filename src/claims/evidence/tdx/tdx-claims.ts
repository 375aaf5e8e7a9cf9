/**
 * The `tee.claims` of a verified TDX quote: every TD report field a policy may want to
 * pin, as lowercase hex, plus where the quote came from and how its TCB stands.
 */
import type { TdxQuote } from "./tdx-quote.js";

/** How the platform's TCB stands: with collateral, Intel's status and advisories. */
export interface TdxTcbStanding {
  /** `unknown` when the verifier has no collateral. */
  readonly tcbStatus: string;
  readonly advisoryIds: readonly string[];
}

/** Builds the frozen, JSON-safe claims object of a verified quote. */
export function buildTdxClaims(
  quote: TdxQuote,
  fmspc: Buffer,
  standing: TdxTcbStanding,
): Readonly<Record<string, unknown>> {
  const report = quote.report;
  const hex = (bytes: Buffer): string => bytes.toString("hex");
  const claims: Record<string, unknown> = {
    version: quote.version,
    bodyType: report.bodyType,
    mrtd: hex(report.mrTd),
    rtmr0: hex(report.rtmrs[0]),
    rtmr1: hex(report.rtmrs[1]),
    rtmr2: hex(report.rtmrs[2]),
    rtmr3: hex(report.rtmrs[3]),
    mrconfigid: hex(report.mrConfigId),
    mrowner: hex(report.mrOwner),
    mrownerconfig: hex(report.mrOwnerConfig),
    mrseam: hex(report.mrSeam),
    mrsignerseam: hex(report.mrSignerSeam),
    seamAttributes: hex(report.seamAttributes),
    tdAttributes: hex(report.tdAttributes),
    xfam: hex(report.xfam),
    teeTcbSvn: hex(report.teeTcbSvn),
    fmspc: hex(fmspc),
    tcbStatus: standing.tcbStatus,
    advisoryIds: Object.freeze([...standing.advisoryIds]),
    qeVendorId: hex(quote.qeVendorId),
  };
  if (report.teeTcbSvn2 !== undefined) claims["teeTcbSvn2"] = hex(report.teeTcbSvn2);
  if (report.mrServiceTd !== undefined) claims["mrservicetd"] = hex(report.mrServiceTd);
  return Object.freeze(claims);
}
