/**
 * What a verified SEV-SNP report offers policy as `tee.claims`: every field of the
 * report, decoded, in JSON-safe values (lowercase hex strings, numbers, booleans).
 * Nothing is judged here: a debug guest, VMPL 1 or an old TCB are reported as they
 * are, for the policy to accept or refuse.
 */
import type { SnpFirmwareVersion } from "./parse-report.js";
import type { TcbVersion } from "./tcb-version.js";
import { decodeReportTcbs } from "./vek-binding.js";
import type { VerifiedSnpReport } from "./verify-report.js";

/** A TCB version as a claim. */
export interface TcbClaim {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin only. */
  readonly fmc?: number;
}

/**
 * `tee.claims` of an SEV-SNP report. A type alias, not an interface, so that it
 * fits `VerifiedEvidence.claims` (`Readonly<Record<string, unknown>>`).
 */
export type SevSnpClaims = {
  readonly version: number;
  readonly guestSvn: number;
  readonly vmpl: number;
  /** POLICY as 16 lowercase hex digits (bit 19 = debug). */
  readonly policy: string;
  readonly policyFlags: {
    readonly abiMajor: number;
    readonly abiMinor: number;
    readonly smt: boolean;
    readonly migrateMa: boolean;
    readonly debug: boolean;
    readonly singleSocket: boolean;
    readonly cxlAllowed: boolean;
    readonly memAes256Xts: boolean;
    readonly raplDisabled: boolean;
    readonly ciphertextHiding: boolean;
    readonly pageSwapDisabled: boolean;
  };
  readonly measurement: string;
  readonly hostData: string;
  readonly reportData: string;
  readonly idKeyDigest: string;
  readonly authorKeyDigest: string;
  readonly reportId: string;
  readonly reportIdMa: string;
  readonly chipId: string;
  readonly familyId: string;
  readonly imageId: string;
  readonly signingKey: "vcek" | "vlek";
  readonly maskChipKey: boolean;
  readonly authorKeyEn: boolean;
  /** The VCEK/VLEK's product name (`Milan-B0`, `Genoa`, `Turin` ...). */
  readonly productName: string;
  readonly productLine: string;
  /** VLEK only: the cloud provider the key was loaded for. */
  readonly cspId?: string;
  readonly reportedTcb: TcbClaim;
  readonly currentTcb: TcbClaim;
  readonly committedTcb: TcbClaim;
  readonly launchTcb: TcbClaim;
  readonly platformInfo: {
    /** PLATFORM_INFO as 16 lowercase hex digits. */
    readonly value: string;
    readonly smtEnabled: boolean;
    readonly tsmeEnabled: boolean;
    readonly eccEnabled: boolean;
    readonly raplDisabled: boolean;
    readonly ciphertextHidingEnabled: boolean;
    readonly aliasCheckComplete: boolean;
    readonly tioEnabled: boolean;
  };
  /** Firmware versions as `major.minor.build`. */
  readonly currentVersion: string;
  readonly committedVersion: string;
  /** Report v3 and later. */
  readonly cpuid?: { readonly family: number; readonly model: number; readonly stepping: number };
  /** Report v5: verified mitigation vectors, 16 lowercase hex digits. */
  readonly launchMitVector?: string;
  readonly currentMitVector?: string;
};

/** Builds the claims of a verified report (a fresh, frozen object). */
export function sevSnpClaims(verified: VerifiedSnpReport): SevSnpClaims {
  const { report, vek } = verified;
  const tcbs = decodeReportTcbs(report, verified.tcbLayout);
  const claims: SevSnpClaims = {
    version: report.version,
    guestSvn: report.guestSvn,
    vmpl: report.vmpl,
    policy: hex64(report.policy),
    policyFlags: { ...report.guestPolicy },
    measurement: report.measurement.toString("hex"),
    hostData: report.hostData.toString("hex"),
    reportData: report.reportData.toString("hex"),
    idKeyDigest: report.idKeyDigest.toString("hex"),
    authorKeyDigest: report.authorKeyDigest.toString("hex"),
    reportId: report.reportId.toString("hex"),
    reportIdMa: report.reportIdMa.toString("hex"),
    chipId: report.chipId.toString("hex"),
    familyId: report.familyId.toString("hex"),
    imageId: report.imageId.toString("hex"),
    signingKey: report.signerInfo.signingKey,
    maskChipKey: report.signerInfo.maskChipKey,
    authorKeyEn: report.signerInfo.authorKeyEn,
    productName: vek.productName,
    productLine: verified.productLine,
    ...(vek.cspId === undefined ? {} : { cspId: vek.cspId }),
    reportedTcb: tcbClaim(tcbs.reported),
    currentTcb: tcbClaim(tcbs.current),
    committedTcb: tcbClaim(tcbs.committed),
    launchTcb: tcbClaim(tcbs.launch),
    platformInfo: { value: hex64(report.platformInfo), ...report.platform },
    currentVersion: versionText(report.currentVersion),
    committedVersion: versionText(report.committedVersion),
    ...(report.cpuid === undefined ? {} : { cpuid: { ...report.cpuid } }),
    ...(report.launchMitVector === undefined
      ? {}
      : { launchMitVector: hex64(report.launchMitVector) }),
    ...(report.currentMitVector === undefined
      ? {}
      : { currentMitVector: hex64(report.currentMitVector) }),
  };
  return deepFreeze(claims);
}

function tcbClaim(tcb: TcbVersion): TcbClaim {
  return {
    bootloader: tcb.bootloader,
    tee: tcb.tee,
    snp: tcb.snp,
    microcode: tcb.microcode,
    ...(tcb.fmc === undefined ? {} : { fmc: tcb.fmc }),
  };
}

function hex64(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}

function versionText(version: SnpFirmwareVersion): string {
  return `${version.major}.${version.minor}.${version.build}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === "object" && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
