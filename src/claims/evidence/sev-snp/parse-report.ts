/**
 * The SEV-SNP ATTESTATION_REPORT (AMD SEV Secure Nested Paging Firmware ABI
 * Specification, "ATTESTATION_REPORT Structure"), read exactly: 0x4A0 bytes, little
 * endian, versions 2, 3 and 5 only. Every field the specification marks reserved
 * must be zero, and an unknown version, signing key or signature algorithm is
 * refused rather than read with a neighbour's layout: a parser that tolerates what
 * it does not understand reads fields the signer never meant.
 *
 * Layout (offsets in hex; v3 added the CPUID fields, v5 the mitigation vectors):
 *
 * ```
 * 000 VERSION u32            004 GUEST_SVN u32        008 POLICY u64
 * 010 FAMILY_ID [16]         020 IMAGE_ID [16]        030 VMPL u32
 * 034 SIGNATURE_ALGO u32     038 CURRENT_TCB [8]      040 PLATFORM_INFO u64
 * 048 signer info u32 (bit 0 AUTHOR_KEY_EN, 1 MASK_CHIP_KEY, 4:2 SIGNING_KEY, 31:5 MBZ)
 * 04C reserved (MBZ) [4]     050 REPORT_DATA [64]     090 MEASUREMENT [48]
 * 0C0 HOST_DATA [32]         0E0 ID_KEY_DIGEST [48]   110 AUTHOR_KEY_DIGEST [48]
 * 140 REPORT_ID [32]         160 REPORT_ID_MA [32]    180 REPORTED_TCB [8]
 * 188 v3+: CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (v2: reserved); then reserved to 1A0
 * 1A0 CHIP_ID [64]           1E0 COMMITTED_TCB [8]
 * 1E8 CURRENT_BUILD, _MINOR, _MAJOR, reserved     1EC COMMITTED_BUILD, _MINOR, _MAJOR, reserved
 * 1F0 LAUNCH_TCB [8]
 * 1F8 v5: LAUNCH_MIT_VECTOR u64, 200 CURRENT_MIT_VECTOR u64; reserved to 2A0
 * 2A0 SIGNATURE: R [72], S [72] (little endian, zero-extended), reserved to 4A0
 * ```
 *
 * The signature covers bytes [0, 0x2A0). This module only reads; `verify-report.ts`
 * decides what the bytes are worth.
 */
import type { VekKind } from "./product-line.js";

/** Size of every SEV-SNP attestation report. */
export const SNP_REPORT_SIZE = 0x4a0;
/** The signature covers bytes [0, SNP_SIGNED_SIZE). */
export const SNP_SIGNED_SIZE = 0x2a0;
/** SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384, the only algorithm AMD defines. */
export const SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;

/** Report versions whose layout verigate knows. */
export const SNP_REPORT_VERSIONS = [2, 3, 5] as const;
/** A report version verigate reads. */
export type SnpReportVersion = (typeof SNP_REPORT_VERSIONS)[number];

/** Width of R and S in the report; a P-384 scalar needs only the first 48. */
const SIGNATURE_COMPONENT_SIZE = 72;
const P384_SCALAR_SIZE = 48;

/** The guest policy (POLICY), fixed at launch by the guest owner. */
export interface SnpGuestPolicy {
  readonly abiMinor: number;
  readonly abiMajor: number;
  /** Bit 16: the host may use SMT. */
  readonly smt: boolean;
  /** Bit 18: a migration agent may be associated with the guest. */
  readonly migrateMa: boolean;
  /** Bit 19: the host can debug (read and write) the guest's memory. */
  readonly debug: boolean;
  /** Bit 20: the guest runs on a single socket only. */
  readonly singleSocket: boolean;
  /** Bit 21: CXL may be populated with devices or memory. */
  readonly cxlAllowed: boolean;
  /** Bit 22: memory encryption must be AES-256-XTS. */
  readonly memAes256Xts: boolean;
  /** Bit 23: RAPL must be disabled. */
  readonly raplDisabled: boolean;
  /** Bit 24: ciphertext hiding for DRAM must be enabled. */
  readonly ciphertextHiding: boolean;
  /** Bit 25: page swap and page move are disabled. */
  readonly pageSwapDisabled: boolean;
}

/** PLATFORM_INFO: the host's configuration when the report was made. */
export interface SnpPlatformInfo {
  readonly smtEnabled: boolean;
  readonly tsmeEnabled: boolean;
  readonly eccEnabled: boolean;
  readonly raplDisabled: boolean;
  readonly ciphertextHidingEnabled: boolean;
  /** Bit 5: the boot-time memory alias check completed (the BadRAM mitigation). */
  readonly aliasCheckComplete: boolean;
  /** Bit 7: SEV-TIO is enabled. */
  readonly tioEnabled: boolean;
}

/** The signer information word at 0x48. */
export interface SnpSignerInfo {
  readonly signingKey: VekKind;
  /** The host masked CHIP_ID (it is then all zero). */
  readonly maskChipKey: boolean;
  /** The ID block was signed with an author key (AUTHOR_KEY_DIGEST is then set). */
  readonly authorKeyEn: boolean;
}

/** A firmware version as major.minor.build. */
export interface SnpFirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

/** CPUID family, model and stepping of the chip (report v3 and later). */
export interface SnpCpuid {
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
}

/**
 * A structurally valid, NOT yet authenticated report. Byte fields are copies, so
 * the caller may reuse its buffer. TCB versions stay raw: their layout depends on
 * the product line, which only the signed CPUID fields or the VCEK establish.
 */
export interface SnpReport {
  readonly version: SnpReportVersion;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly guestPolicy: SnpGuestPolicy;
  readonly familyId: Buffer;
  readonly imageId: Buffer;
  readonly vmpl: number;
  readonly signatureAlgo: typeof SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384;
  readonly currentTcb: Buffer;
  readonly platformInfo: bigint;
  readonly platform: SnpPlatformInfo;
  readonly signerInfo: SnpSignerInfo;
  readonly reportData: Buffer;
  readonly measurement: Buffer;
  readonly hostData: Buffer;
  readonly idKeyDigest: Buffer;
  readonly authorKeyDigest: Buffer;
  readonly reportId: Buffer;
  readonly reportIdMa: Buffer;
  readonly reportedTcb: Buffer;
  /** Undefined for version 2, which has no CPUID fields. */
  readonly cpuid: SnpCpuid | undefined;
  readonly chipId: Buffer;
  readonly committedTcb: Buffer;
  readonly currentVersion: SnpFirmwareVersion;
  readonly committedVersion: SnpFirmwareVersion;
  readonly launchTcb: Buffer;
  /** Version 5 only. */
  readonly launchMitVector: bigint | undefined;
  /** Version 5 only. */
  readonly currentMitVector: bigint | undefined;
  /** R and S of the ECDSA signature, 48 bytes each, little endian (as in the report). */
  readonly signatureR: Buffer;
  readonly signatureS: Buffer;
  /** Bytes [0, 0x2A0): what the signature covers. */
  readonly signedBytes: Buffer;
}

/** A parsed report, or why the bytes are not one. */
export type ParseReportOutcome =
  | { readonly ok: true; readonly report: SnpReport }
  | { readonly ok: false; readonly problem: string };

/** A reason the bytes are not a report verigate reads; caught in `parseSnpReport`. */
class ReportFormatError extends Error {}

const POLICY_MUST_BE_ONE_BIT = 17n;
/** Policy bits above PAGE_SWAP_DISABLE (25) are reserved, must be zero. */
const POLICY_FIRST_RESERVED_BIT = 26n;
/** Signer info bits 31:5 are reserved, must be zero. */
const SIGNER_INFO_RESERVED_MASK = 0xffffffe0;
/** SIGNING_KEY 7: the report is not signed at all. */
const SIGNING_KEY_NONE = 7;
/** VMPLs 0-3 exist; a report requested by anything else names no guest privilege level. */
const MAX_VMPL = 3;

/** Parses a report; never throws. The result is structural only: nothing is verified yet. */
export function parseSnpReport(bytes: Uint8Array): ParseReportOutcome {
  if (bytes.length !== SNP_REPORT_SIZE) {
    return {
      ok: false,
      problem: `report is ${bytes.length} bytes; an SEV-SNP report is ${SNP_REPORT_SIZE} (0x4a0)`,
    };
  }
  try {
    // One private copy: later changes to the caller's buffer cannot reach what is checked.
    return { ok: true, report: readReport(Buffer.from(bytes)) };
  } catch (e: unknown) {
    if (e instanceof ReportFormatError) return { ok: false, problem: e.message };
    throw e;
  }
}

function readReport(b: Buffer): SnpReport {
  const version = readVersion(b.readUInt32LE(0x000));
  const signatureAlgo = b.readUInt32LE(0x034);
  if (signatureAlgo !== SNP_SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    throw new ReportFormatError(
      `signature algorithm ${signatureAlgo} is not supported (only 1, ECDSA P-384 with SHA-384)`,
    );
  }
  const policy = b.readBigUInt64LE(0x008);
  const vmpl = b.readUInt32LE(0x030);
  if (vmpl > MAX_VMPL) throw new ReportFormatError(`VMPL ${vmpl} is not 0-3`);
  const signerInfo = readSignerInfo(b.readUInt32LE(0x048));
  requireZero(b, 0x04c, 0x050);

  const hasCpuid = version >= 3;
  requireZero(b, hasCpuid ? 0x18b : 0x188, 0x1a0);
  requireZero(b, 0x1eb, 0x1ec);
  requireZero(b, 0x1ef, 0x1f0);
  const hasMitigationVectors = version >= 5;
  requireZero(b, hasMitigationVectors ? 0x208 : 0x1f8, SNP_SIGNED_SIZE);

  const r = b.subarray(0x2a0, 0x2a0 + SIGNATURE_COMPONENT_SIZE);
  const s = b.subarray(0x2e8, 0x2e8 + SIGNATURE_COMPONENT_SIZE);
  // Zero-extended little-endian scalars: the top 24 bytes of each must be zero.
  requireZero(b, 0x2a0 + P384_SCALAR_SIZE, 0x2a0 + SIGNATURE_COMPONENT_SIZE, "signature R");
  requireZero(b, 0x2e8 + P384_SCALAR_SIZE, 0x2e8 + SIGNATURE_COMPONENT_SIZE, "signature S");
  requireZero(b, 0x2a0 + 2 * SIGNATURE_COMPONENT_SIZE, SNP_REPORT_SIZE);

  return {
    version,
    guestSvn: b.readUInt32LE(0x004),
    policy,
    guestPolicy: readGuestPolicy(policy),
    familyId: b.subarray(0x010, 0x020),
    imageId: b.subarray(0x020, 0x030),
    vmpl,
    signatureAlgo,
    currentTcb: b.subarray(0x038, 0x040),
    platformInfo: b.readBigUInt64LE(0x040),
    platform: readPlatformInfo(b.readBigUInt64LE(0x040)),
    signerInfo,
    reportData: b.subarray(0x050, 0x090),
    measurement: b.subarray(0x090, 0x0c0),
    hostData: b.subarray(0x0c0, 0x0e0),
    idKeyDigest: b.subarray(0x0e0, 0x110),
    authorKeyDigest: b.subarray(0x110, 0x140),
    reportId: b.subarray(0x140, 0x160),
    reportIdMa: b.subarray(0x160, 0x180),
    reportedTcb: b.subarray(0x180, 0x188),
    cpuid: hasCpuid
      ? { family: b[0x188] ?? 0, model: b[0x189] ?? 0, stepping: b[0x18a] ?? 0 }
      : undefined,
    chipId: b.subarray(0x1a0, 0x1e0),
    committedTcb: b.subarray(0x1e0, 0x1e8),
    currentVersion: readFirmwareVersion(b, 0x1e8),
    committedVersion: readFirmwareVersion(b, 0x1ec),
    launchTcb: b.subarray(0x1f0, 0x1f8),
    launchMitVector: hasMitigationVectors ? b.readBigUInt64LE(0x1f8) : undefined,
    currentMitVector: hasMitigationVectors ? b.readBigUInt64LE(0x200) : undefined,
    signatureR: r.subarray(0, P384_SCALAR_SIZE),
    signatureS: s.subarray(0, P384_SCALAR_SIZE),
    signedBytes: b.subarray(0, SNP_SIGNED_SIZE),
  };
}

function readVersion(version: number): SnpReportVersion {
  const known = SNP_REPORT_VERSIONS.find((v) => v === version);
  if (known === undefined) {
    throw new ReportFormatError(
      `report version ${version} is not supported (supported: ${SNP_REPORT_VERSIONS.join(", ")})`,
    );
  }
  return known;
}

/** Decodes POLICY; refuses a clear must-be-one bit 17 or any reserved bit set. */
function readGuestPolicy(policy: bigint): SnpGuestPolicy {
  if (!isBitSet(policy, POLICY_MUST_BE_ONE_BIT)) {
    throw new ReportFormatError("policy bit 17 is reserved and must be one");
  }
  if (policy >> POLICY_FIRST_RESERVED_BIT !== 0n) {
    throw new ReportFormatError(
      `policy 0x${policy.toString(16)} sets reserved bits (26-63 must be zero)`,
    );
  }
  return {
    abiMinor: Number(policy & 0xffn),
    abiMajor: Number((policy >> 8n) & 0xffn),
    smt: isBitSet(policy, 16n),
    migrateMa: isBitSet(policy, 18n),
    debug: isBitSet(policy, 19n),
    singleSocket: isBitSet(policy, 20n),
    cxlAllowed: isBitSet(policy, 21n),
    memAes256Xts: isBitSet(policy, 22n),
    raplDisabled: isBitSet(policy, 23n),
    ciphertextHiding: isBitSet(policy, 24n),
    pageSwapDisabled: isBitSet(policy, 25n),
  };
}

/**
 * Decodes PLATFORM_INFO. Its undefined bits are reported, not refused: hosts have
 * been seen setting them, and they describe the host, not what the guest asked for.
 */
function readPlatformInfo(info: bigint): SnpPlatformInfo {
  return {
    smtEnabled: isBitSet(info, 0n),
    tsmeEnabled: isBitSet(info, 1n),
    eccEnabled: isBitSet(info, 2n),
    raplDisabled: isBitSet(info, 3n),
    ciphertextHidingEnabled: isBitSet(info, 4n),
    aliasCheckComplete: isBitSet(info, 5n),
    tioEnabled: isBitSet(info, 7n),
  };
}

function readSignerInfo(info: number): SnpSignerInfo {
  if ((info & SIGNER_INFO_RESERVED_MASK) !== 0) {
    throw new ReportFormatError(
      `signer info 0x${info.toString(16)} sets reserved bits (5-31 must be zero)`,
    );
  }
  const signingKey = (info >>> 2) & 0x7;
  if (signingKey === SIGNING_KEY_NONE) {
    throw new ReportFormatError("SIGNING_KEY is 7: the report is not signed");
  }
  if (signingKey !== 0 && signingKey !== 1) {
    throw new ReportFormatError(`SIGNING_KEY ${signingKey} is reserved (0 = VCEK, 1 = VLEK)`);
  }
  return {
    signingKey: signingKey === 0 ? "vcek" : "vlek",
    maskChipKey: (info & 0x2) !== 0,
    authorKeyEn: (info & 0x1) !== 0,
  };
}

function readFirmwareVersion(b: Buffer, offset: number): SnpFirmwareVersion {
  return { build: b[offset] ?? 0, minor: b[offset + 1] ?? 0, major: b[offset + 2] ?? 0 };
}

function requireZero(b: Buffer, start: number, end: number, what = "reserved bytes"): void {
  for (let i = start; i < end; i++) {
    if (b[i] !== 0) {
      throw new ReportFormatError(
        `${what} [0x${hex(start)}, 0x${hex(end)}) must be zero (0x${hex(i)} is 0x${hex(b[i] ?? 0)})`,
      );
    }
  }
}

function isBitSet(value: bigint, bit: bigint): boolean {
  return ((value >> bit) & 1n) === 1n;
}

function hex(n: number): string {
  return n.toString(16);
}
