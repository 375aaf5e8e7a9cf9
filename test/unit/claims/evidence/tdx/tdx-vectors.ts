/**
 * The real TDX vectors, read in place from the shared vectors directory (never copied into
 * the repo), and the clock each must be verified at. The vectors README names a clock only
 * for go-tdx-guest's collateral (its TCB signing certificate expired 2025-05-21); the others
 * are chosen inside every validity window involved, as noted per vector.
 */
import { readFileSync } from "node:fs";
import type { TdxCollateralSources } from "../../../../../src/claims/evidence/tdx/tdx-collateral.js";

/** `/work/shared/vectors/tdx/` seen from this folder. */
export const TDX_VECTORS = new URL("../../../../../../shared/vectors/tdx/", import.meta.url);

export function readTdxVector(relative: string): Buffer {
  return readFileSync(new URL(relative, TDX_VECTORS));
}

/**
 * go-tdx-guest's sample collateral is current from 2023-06-18T08:42:58Z (TCB info issued)
 * to 2023-07-08T07:24:59Z (QE identity nextUpdate); its PCK CRL and root CRL cover that too.
 */
export const GO_TDX_GUEST_TIME = Date.parse("2023-06-20T00:00:00Z");
/** dcap-qvl's tdx_quote collateral: 2025-06-19T10:32:27Z to 2025-07-19T10:16:03Z. */
export const DCAP_QVL_TIME = Date.parse("2025-06-20T00:00:00Z");
/** dcap-qvl's tdx_quote_outdated collateral: 2026-02-18T10:58:51Z to 2026-03-20T10:42:15Z. */
export const DCAP_QVL_OUTDATED_TIME = Date.parse("2026-02-19T00:00:00Z");

/** One real quote, and a time inside its PCK chain's validity. */
export interface RealQuote {
  readonly file: string;
  readonly now: number;
  readonly version: 4 | 5;
  readonly bodyType: 2 | 3;
  readonly fmspc: string;
  readonly isDebug: boolean;
}

export const REAL_QUOTES: readonly RealQuote[] = [
  // PCK certificate valid 2022-09-20 to 2029-09-20.
  {
    file: "go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
    now: GO_TDX_GUEST_TIME,
    version: 4,
    bodyType: 2,
    fmspc: "50806f000000",
    isDebug: false,
  },
  // PCK certificate valid from 2026-01-27.
  {
    file: "go-tdx-guest/quote_v5_sample.dat",
    now: DCAP_QVL_OUTDATED_TIME,
    version: 5,
    bodyType: 3,
    fmspc: "90c06f000000",
    isDebug: false,
  },
  // PCK certificate valid from 2025-02-06.
  {
    file: "dcap-qvl/tdx_quote",
    now: DCAP_QVL_TIME,
    version: 4,
    bodyType: 2,
    fmspc: "b0c06f000000",
    isDebug: false,
  },
  // PCK certificate valid from 2026-01-23.
  {
    file: "dcap-qvl/tdx_quote_outdated",
    now: DCAP_QVL_OUTDATED_TIME,
    version: 5,
    bodyType: 3,
    fmspc: "90c06f000000",
    isDebug: false,
  },
  // PCK certificate valid 2023-02-07 to 2030-02-07.
  {
    file: "trustee/tdx_quote_4.dat",
    now: GO_TDX_GUEST_TIME,
    version: 4,
    bodyType: 2,
    fmspc: "50806f000000",
    isDebug: true,
  },
  // PCK certificate valid 2024-03-18 to 2031-03-18.
  {
    file: "trustee/tdx_quote_5.dat",
    now: DCAP_QVL_TIME,
    version: 5,
    bodyType: 3,
    fmspc: "90c06f000000",
    isDebug: false,
  },
];

/** dcap-qvl keeps the signed member text and hex signature apart, and CRLs as hex. */
export function dcapQvlCollateral(
  file: "tdx_quote_collateral.json" | "tdx_quote_outdated_collateral.json",
): TdxCollateralSources {
  const json = JSON.parse(readTdxVector(`dcap-qvl/${file}`).toString("utf8")) as Record<
    string,
    string
  >;
  const field = (name: string): string => {
    const value = json[name];
    if (value === undefined) throw new Error(`${file} has no ${name}`);
    return value;
  };
  return {
    tcbInfo: { signedText: field("tcb_info"), signatureHex: field("tcb_info_signature") },
    tcbInfoIssuerChain: field("tcb_info_issuer_chain"),
    qeIdentity: { signedText: field("qe_identity"), signatureHex: field("qe_identity_signature") },
    qeIdentityIssuerChain: field("qe_identity_issuer_chain"),
    pckCrl: Buffer.from(field("pck_crl"), "hex"),
    pckCrlIssuerChain: field("pck_crl_issuer_chain"),
    rootCaCrl: Buffer.from(field("root_ca_crl"), "hex"),
  };
}

/** go-tdx-guest's raw PCS response bodies and header chains. */
export function goTdxGuestCollateral(): TdxCollateralSources {
  const text = (name: string): string => readTdxVector(`go-tdx-guest/${name}`).toString("utf8");
  return {
    tcbInfo: text("sample_tcbInfo_response"),
    tcbInfoIssuerChain: text("tcbinfo_issuer_chain.pem"),
    qeIdentity: text("sample_qeIdentity_response"),
    qeIdentityIssuerChain: text("qeidentity_issuer_chain.pem"),
    pckCrl: readTdxVector("go-tdx-guest/pckcrl"),
    pckCrlIssuerChain: text("pckcrl_issuer_chain.pem"),
    rootCaCrl: readTdxVector("go-tdx-guest/rootcrl.der"),
  };
}

/** A copy of `bytes` with one bit flipped. */
export function flipBit(bytes: Buffer, offset: number, bit = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
  return copy;
}
