/**
 * AMD EPYC product lines that run SEV-SNP, and how a report and its certificates
 * name them. The product line decides which AMD root signs the chain, what the
 * certificates are called, and how the 8-byte TCB version is laid out, so every
 * source that names it (the VCEK's product-name extension, the certificates'
 * common names, the report's CPUID fields) must agree.
 */
import type { TcbLayout } from "./tcb-version.js";

/** The product lines verigate knows: each has its own ARK, ASK and ASVK. */
export type AmdProductLine = "Milan" | "Genoa" | "Turin";

/** Every product line, in AMD's release order. */
export const AMD_PRODUCT_LINES: readonly AmdProductLine[] = ["Milan", "Genoa", "Turin"];

/** Which endorsement key signed a report: chip-unique (VCEK) or cloud-provider-loaded (VLEK). */
export type VekKind = "vcek" | "vlek";

/** CPUID family (extended family + base family, as the report's CPUID_FAM_ID holds it). */
const CPUID_FAMILY: Readonly<Record<AmdProductLine, number>> = {
  Milan: 0x19,
  Genoa: 0x19,
  Turin: 0x1a,
};

/**
 * A KDS product name is the line, optionally followed by `-` and a stepping
 * (`Milan-B0`, `Genoa-B1`; VLEKs say just `Milan`). Anything else is refused.
 */
const PRODUCT_NAME = /^(Milan|Genoa|Turin)(?:-([A-Z][0-9]))?$/;

/** The product line a VCEK/VLEK product name (extension 1.3.6.1.4.1.3704.1.2) names. */
export function productLineOfName(productName: string): AmdProductLine | undefined {
  const match = PRODUCT_NAME.exec(productName);
  return match === null ? undefined : (match[1] as AmdProductLine);
}

/** The TCB_VERSION layout: Turin added an FMC component and moved the others. */
export function tcbLayoutOfLine(line: AmdProductLine): TcbLayout {
  return line === "Turin" ? "turin" : "milan-genoa";
}

/**
 * The TCB layout a report's CPUID family implies (reports v3 and later carry it),
 * or undefined for a family verigate does not know.
 */
export function tcbLayoutOfCpuidFamily(family: number): TcbLayout | undefined {
  if (family === CPUID_FAMILY.Milan) return "milan-genoa";
  if (family === CPUID_FAMILY.Turin) return "turin";
  return undefined;
}

/** The CPUID family a product line reports. */
export function cpuidFamilyOfLine(line: AmdProductLine): number {
  return CPUID_FAMILY[line];
}

/**
 * The product line a CPUID family and model identify, where the model ranges are
 * known (Milan 0x00-0x0F; Genoa 0x10-0x1F and the 0xA0-0xAF Bergamo/Siena parts;
 * Turin family 0x1A). Undefined means "not known", not "wrong".
 */
export function productLineOfCpuid(family: number, model: number): AmdProductLine | undefined {
  if (family === 0x19) {
    if (model <= 0x0f) return "Milan";
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return "Genoa";
    return undefined;
  }
  return family === 0x1a ? "Turin" : undefined;
}

/** Common name of the ARK of a line: AMD names them `ARK-Milan` ... */
export function arkCommonName(line: AmdProductLine): string {
  return `ARK-${line}`;
}

/** Common name of the CA that issues a line's VCEKs (ASK, `SEV-Milan`) or VLEKs (ASVK, `SEV-VLEK-Milan`). */
export function issuingCaCommonName(line: AmdProductLine, kind: VekKind): string {
  return kind === "vcek" ? `SEV-${line}` : `SEV-VLEK-${line}`;
}

/** Common name of an endorsement key certificate. */
export function vekCommonName(kind: VekKind): string {
  return kind === "vcek" ? "SEV-VCEK" : "SEV-VLEK";
}

/** The line and kind an intermediate CA's common name names, or undefined. */
export function parseIssuingCaCommonName(
  commonName: string,
): { readonly line: AmdProductLine; readonly kind: VekKind } | undefined {
  for (const line of AMD_PRODUCT_LINES) {
    if (commonName === issuingCaCommonName(line, "vcek")) return { line, kind: "vcek" };
    if (commonName === issuingCaCommonName(line, "vlek")) return { line, kind: "vlek" };
  }
  return undefined;
}

/** The line an ARK's common name names, or undefined. */
export function parseArkCommonName(commonName: string): AmdProductLine | undefined {
  return AMD_PRODUCT_LINES.find((line) => commonName === arkCommonName(line));
}
