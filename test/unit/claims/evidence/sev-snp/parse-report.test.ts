import { beforeAll, describe, expect, it } from "vitest";
import {
  parseSnpReport,
  SNP_REPORT_SIZE,
  type SnpReport,
} from "../../../../../src/claims/evidence/sev-snp/parse-report.js";
import { readVectorFile } from "./snp-vectors.js";

function parsed(bytes: Uint8Array): SnpReport {
  const outcome = parseSnpReport(bytes);
  if (!outcome.ok) throw new Error(`expected a report, got: ${outcome.problem}`);
  return outcome.report;
}

function problemOf(bytes: Uint8Array): string {
  const outcome = parseSnpReport(bytes);
  if (outcome.ok) throw new Error("expected the bytes to be refused");
  return outcome.problem;
}

/** A copy of `report` with `edit` applied. */
function edited(report: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(report);
  edit(copy);
  return copy;
}

describe("parseSnpReport", () => {
  let v2: Buffer; // go-sev-guest, Milan, debug
  let v3: Buffer; // trustee VLEK
  let v5: Buffer; // GCP
  beforeAll(async () => {
    v2 = await readVectorFile("go-sev-guest/attestation.bin");
    v3 = await readVectorFile("trustee/test-vlek-report.bin");
    v5 = await readVectorFile("teekit-gcp/sev-gcp.bin");
  });

  it("reads every field of a version 2 report", () => {
    const report = parsed(v2);
    expect(report.version).toBe(2);
    expect(report.guestSvn).toBe(0);
    expect(report.policy).toBe(0xb0000n);
    expect(report.guestPolicy).toEqual({
      abiMinor: 0,
      abiMajor: 0,
      smt: true,
      migrateMa: false,
      debug: true,
      singleSocket: false,
      cxlAllowed: false,
      memAes256Xts: false,
      raplDisabled: false,
      ciphertextHiding: false,
      pageSwapDisabled: false,
    });
    expect(report.vmpl).toBe(0);
    expect(report.signatureAlgo).toBe(1);
    expect(report.currentTcb.toString("hex")).toBe("0200000000000544");
    expect(report.platformInfo).toBe(1n);
    expect(report.platform.smtEnabled).toBe(true);
    expect(report.signerInfo).toEqual({
      signingKey: "vcek",
      maskChipKey: false,
      authorKeyEn: false,
    });
    expect(report.reportData.toString("hex")).toBe(`0102030405${"0".repeat(118)}`);
    expect(report.measurement.toString("hex")).toBe(
      "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
    );
    expect(report.reportId.toString("hex")).toBe(
      "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a",
    );
    expect(report.reportIdMa.equals(Buffer.alloc(32, 0xff))).toBe(true);
    expect(report.reportedTcb.toString("hex")).toBe("0200000000000544");
    expect(report.cpuid).toBeUndefined();
    expect(report.chipId).toHaveLength(64);
    expect(report.currentVersion).toEqual({ major: 1, minor: 49, build: 3 });
    expect(report.committedVersion).toEqual({ major: 1, minor: 49, build: 3 });
    expect(report.launchMitVector).toBeUndefined();
    expect(report.signatureR.toString("hex")).toBe(
      "4f8e8b5ab8f8f969ca4f27b6bba65faa5313ae72f66b893874bce5d62d3b08babb321ac2c990a5d24b50a232999cc821",
    );
    expect(report.signedBytes.equals(v2.subarray(0, 0x2a0))).toBe(true);
  });

  it("reads the CPUID fields of a version 3 report and its VLEK signer", () => {
    const report = parsed(v3);
    expect(report.version).toBe(3);
    expect(report.cpuid).toEqual({ family: 0x19, model: 0x01, stepping: 0x01 });
    expect(report.signerInfo.signingKey).toBe("vlek");
    expect(report.vmpl).toBe(1);
  });

  it("reads the mitigation vectors of a version 5 report", () => {
    const report = parsed(v5);
    expect(report.version).toBe(5);
    expect(report.launchMitVector).toBe(0xbn);
    expect(report.currentMitVector).toBe(0xbn);
    expect(report.platform).toMatchObject({
      smtEnabled: true,
      eccEnabled: true,
      aliasCheckComplete: true,
    });
  });

  it("copies the input, so later changes to the caller's buffer do not reach the report", () => {
    const input = Buffer.from(v2);
    const report = parsed(input);
    input.fill(0);
    expect(report.measurement.toString("hex").startsWith("b07af962")).toBe(true);
  });

  it.each([
    [0, "empty"],
    [SNP_REPORT_SIZE - 1, "one byte short"],
    [SNP_REPORT_SIZE + 1, "one byte long"],
    [0x2a0, "the signed part only"],
    [2 * SNP_REPORT_SIZE, "two reports"],
  ])("refuses %i bytes (%s)", (size) => {
    expect(problemOf(Buffer.alloc(size))).toBe(
      `report is ${size} bytes; an SEV-SNP report is 1184 (0x4a0)`,
    );
  });

  it.each([0, 1, 4, 6, 0xffffffff])("refuses report version %i", (version) => {
    expect(problemOf(edited(v2, (b) => b.writeUInt32LE(version, 0)))).toBe(
      `report version ${version} is not supported (supported: 2, 3, 5)`,
    );
  });

  it.each([0, 2, 0x100])("refuses signature algorithm %i", (algo) => {
    expect(problemOf(edited(v2, (b) => b.writeUInt32LE(algo, 0x34)))).toBe(
      `signature algorithm ${algo} is not supported (only 1, ECDSA P-384 with SHA-384)`,
    );
  });

  it.each([
    ["v2", 0x04c, "reserved bytes [0x4c, 0x50)"],
    ["v2", 0x188, "reserved bytes [0x188, 0x1a0)"],
    ["v3", 0x18b, "reserved bytes [0x18b, 0x1a0)"],
    ["v3", 0x19f, "reserved bytes [0x18b, 0x1a0)"],
    ["v2", 0x1eb, "reserved bytes [0x1eb, 0x1ec)"],
    ["v2", 0x1ef, "reserved bytes [0x1ef, 0x1f0)"],
    ["v2", 0x1f8, "reserved bytes [0x1f8, 0x2a0)"],
    ["v3", 0x200, "reserved bytes [0x1f8, 0x2a0)"],
    ["v5", 0x208, "reserved bytes [0x208, 0x2a0)"],
    ["v5", 0x29f, "reserved bytes [0x208, 0x2a0)"],
    ["v2", 0x2a0 + 48, "signature R [0x2d0, 0x2e8)"],
    ["v2", 0x2e8 + 71, "signature S [0x318, 0x330)"],
    ["v2", 0x330, "reserved bytes [0x330, 0x4a0)"],
    ["v2", 0x49f, "reserved bytes [0x330, 0x4a0)"],
  ] as const)(
    "refuses a %s report with a byte set at offset %i where the ABI says must be zero",
    (which, offset, range) => {
      const source = which === "v2" ? v2 : which === "v3" ? v3 : v5;
      const problem = problemOf(edited(source, (b) => (b[offset] = 0x01)));
      expect(problem).toBe(`${range} must be zero (0x${offset.toString(16)} is 0x1)`);
    },
  );

  it("reads CPUID bytes of a v3 report that are reserved in a v2 report", () => {
    expect(parsed(v3).cpuid?.family).toBe(0x19);
    expect(problemOf(edited(v3, (b) => b.writeUInt32LE(2, 0)))).toMatch(
      /^reserved bytes \[0x188, 0x1a0\)/,
    );
  });

  it("refuses a policy without the must-be-one bit 17", () => {
    expect(problemOf(edited(v2, (b) => (b[0x0a] = 0x09)))).toBe(
      "policy bit 17 is reserved and must be one",
    );
  });

  it.each([26n, 32n, 63n])("refuses a policy with reserved bit %i set", (bit) => {
    const problem = problemOf(
      edited(v2, (b) => b.writeBigUInt64LE(b.readBigUInt64LE(8) | (1n << bit), 8)),
    );
    expect(problem).toMatch(/^policy 0x[0-9a-f]+ sets reserved bits \(26-63 must be zero\)$/);
  });

  it("reads every defined policy flag", () => {
    const all = (1n << 26n) - 1n;
    const report = parsed(edited(v2, (b) => b.writeBigUInt64LE(all, 8)));
    expect(Object.values(report.guestPolicy).filter((v) => v === true)).toHaveLength(9);
    expect(report.guestPolicy.abiMajor).toBe(0xff);
  });

  it.each([
    [0x20, "signer info 0x20 sets reserved bits (5-31 must be zero)"],
    [0x80000000, "signer info 0x80000000 sets reserved bits (5-31 must be zero)"],
    [7 << 2, "SIGNING_KEY is 7: the report is not signed"],
    [2 << 2, "SIGNING_KEY 2 is reserved (0 = VCEK, 1 = VLEK)"],
    [6 << 2, "SIGNING_KEY 6 is reserved (0 = VCEK, 1 = VLEK)"],
  ])("refuses signer info 0x%s", (info, problem) => {
    expect(problemOf(edited(v2, (b) => b.writeUInt32LE(info, 0x48)))).toBe(problem);
  });

  it("reads MASK_CHIP_KEY and AUTHOR_KEY_EN", () => {
    const report = parsed(edited(v2, (b) => b.writeUInt32LE(0b00111, 0x48)));
    expect(report.signerInfo).toEqual({ signingKey: "vlek", maskChipKey: true, authorKeyEn: true });
  });

  it.each([4, 5, 0xffffffff])("refuses VMPL %i", (vmpl) => {
    expect(problemOf(edited(v2, (b) => b.writeUInt32LE(vmpl, 0x30)))).toBe(
      `VMPL ${vmpl} is not 0-3`,
    );
  });
});
