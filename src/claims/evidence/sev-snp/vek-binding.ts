/**
 * Whether a VCEK/VLEK certificate describes the report it verified: the right kind
 * of key (the report's SIGNING_KEY), the same product line (the report's CPUID),
 * the same TCB (REPORTED_TCB is what the key was derived for) and, for a VCEK, the
 * same chip (CHIP_ID). A valid signature alone does not establish any of these:
 * a VCEK of the same chip at an older TCB signs just as well. Each check returns
 * undefined when it holds, else a precise problem.
 */
import type { AmdCertificate } from "./amd-certificate.js";
import type { SnpReport } from "./parse-report.js";
import {
  cpuidFamilyOfLine,
  productLineOfCpuid,
  tcbLayoutOfCpuidFamily,
  tcbLayoutOfLine,
  vekCommonName,
  type AmdProductLine,
  type VekKind,
} from "./product-line.js";
import {
  decodeTcbVersion,
  reservedTcbOffsets,
  type TcbLayout,
  type TcbVersion,
} from "./tcb-version.js";
import { chipIdLength, type VekExtensions, type VekTcb } from "./vek-extensions.js";

/** The report says which kind of key signed it; the certificate must be that kind. */
export function vekKindProblem(
  kind: VekKind,
  cert: AmdCertificate,
  extensions: VekExtensions,
): string | undefined {
  const expected = vekCommonName(kind);
  if (cert.subjectCommonName !== expected) {
    const other = vekCommonName(kind === "vcek" ? "vlek" : "vcek");
    return cert.subjectCommonName === other
      ? `report says it was signed by a ${kind.toUpperCase()}, but the certificate is a ${other}`
      : `certificate CN=${cert.subjectCommonName ?? "?"} is not a ${expected}`;
  }
  // A VCEK names its chip, a VLEK its cloud provider: never the other way round.
  if (kind === "vcek" && extensions.hwId === undefined) return "VCEK has no hwID extension";
  if (kind === "vcek" && extensions.cspId !== undefined)
    return "VCEK carries a VLEK's CSP ID extension";
  if (kind === "vlek" && extensions.hwId !== undefined)
    return "VLEK carries a VCEK's hwID extension";
  if (
    cert.publicKey.asymmetricKeyType !== "ec" ||
    cert.publicKey.asymmetricKeyDetails?.namedCurve !== "secp384r1"
  ) {
    return `${expected} key is not an ECDSA P-384 key`;
  }
  return undefined;
}

/** The TCB layout to read the report with, or why it cannot be known. */
export type TcbLayoutOutcome =
  | { readonly ok: true; readonly layout: TcbLayout }
  | { readonly ok: false; readonly problem: string };

/**
 * The TCB layout of the report: from its CPUID family (v3 and later), which must
 * agree with the certificate's product line, or else from the product line.
 */
export function resolveTcbLayout(report: SnpReport, line: AmdProductLine): TcbLayoutOutcome {
  if (report.cpuid === undefined) return { ok: true, layout: tcbLayoutOfLine(line) };
  const { family, model } = report.cpuid;
  const layout = tcbLayoutOfCpuidFamily(family);
  if (layout === undefined) {
    return {
      ok: false,
      problem: `report CPUID family 0x${family.toString(16)} is not a known SEV-SNP family`,
    };
  }
  const cpuidLine = productLineOfCpuid(family, model);
  if (family !== cpuidFamilyOfLine(line) || (cpuidLine !== undefined && cpuidLine !== line)) {
    return {
      ok: false,
      problem: `report CPUID family 0x${family.toString(16)} model 0x${model.toString(16)} is not a ${line} (the certificate's product)`,
    };
  }
  return { ok: true, layout };
}

/**
 * REPORTED_TCB must equal, component by component, the TCB the key was issued for;
 * the layout's reserved bytes and the certificate's reserved SPLs must be zero
 * (AMD defines no meaning for them, so a non-zero one is not understood).
 */
export function tcbMismatchProblem(
  reportedTcb: Uint8Array,
  layout: TcbLayout,
  vekTcb: VekTcb,
): string | undefined {
  const reported = decodeTcbVersion(reportedTcb, layout);
  const names = ["bootloader", "tee", "snp", "microcode"] as const;
  const differing: string[] = names
    .filter((name) => reported[name] !== vekTcb[name])
    .map((name) => `${name} ${reported[name]} (certificate: ${vekTcb[name]})`);
  if (layout === "turin" && reported.fmc !== vekTcb.fmc) {
    differing.push(`fmc ${reported.fmc ?? "?"} (certificate: ${vekTcb.fmc ?? "none"})`);
  }
  if (layout !== "turin" && vekTcb.fmc !== undefined) {
    differing.push(`fmc none (certificate: ${vekTcb.fmc})`);
  }
  if (differing.length > 0) {
    return `report's reported_tcb does not match the certificate's TCB: ${differing.join(", ")}`;
  }
  const reservedByte = reservedTcbOffsets(layout).find(
    (offset) => (reportedTcb[offset] ?? 0) !== 0,
  );
  if (reservedByte !== undefined)
    return `report's reported_tcb byte ${reservedByte} is reserved but not zero`;
  const reservedSpl = [...vekTcb.reservedSpls].find(([, value]) => value !== 0);
  if (reservedSpl !== undefined)
    return `certificate's reserved SPL ${reservedSpl[0]} is ${reservedSpl[1]}, not zero`;
  return undefined;
}

/**
 * A VCEK is one chip's key: its hwID must equal the report's CHIP_ID, unless the
 * host masked the chip ID (MASK_CHIP_KEY), in which case CHIP_ID must be all zero.
 * Turin's ID is 8 bytes, the rest of CHIP_ID zero. VLEKs name no chip.
 */
export function chipIdProblem(
  report: SnpReport,
  line: AmdProductLine,
  hwId: Buffer | undefined,
): string | undefined {
  if (report.signerInfo.signingKey === "vlek") return undefined;
  if (report.signerInfo.maskChipKey) {
    return report.chipId.every((byte) => byte === 0)
      ? undefined
      : "chip ID is masked but CHIP_ID is not zero";
  }
  const length = chipIdLength(line);
  const id = report.chipId.subarray(0, length);
  const padding = report.chipId.subarray(length);
  if (hwId === undefined || !id.equals(hwId) || !padding.every((byte) => byte === 0)) {
    return "report's CHIP_ID does not match the VCEK's hwID: the VCEK belongs to another chip";
  }
  return undefined;
}

/** All TCB versions of the report, decoded in one layout. */
export function decodeReportTcbs(
  report: SnpReport,
  layout: TcbLayout,
): {
  readonly reported: TcbVersion;
  readonly current: TcbVersion;
  readonly committed: TcbVersion;
  readonly launch: TcbVersion;
} {
  return {
    reported: decodeTcbVersion(report.reportedTcb, layout),
    current: decodeTcbVersion(report.currentTcb, layout),
    committed: decodeTcbVersion(report.committedTcb, layout),
    launch: decodeTcbVersion(report.launchTcb, layout),
  };
}
