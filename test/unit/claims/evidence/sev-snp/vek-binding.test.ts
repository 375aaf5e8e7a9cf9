import { beforeAll, describe, expect, it } from "vitest";
import type {
  EvidenceOutcome,
  EvidenceVerifier,
} from "../../../../../src/claims/evidence/evidence.js";
import {
  parseSnpReport,
  type SnpReport,
} from "../../../../../src/claims/evidence/sev-snp/parse-report.js";
import { createSevSnpVerifier } from "../../../../../src/claims/evidence/sev-snp/sev-snp-verifier.js";
import {
  encodeTcbVersion,
  type TcbVersion,
} from "../../../../../src/claims/evidence/sev-snp/tcb-version.js";
import {
  chipIdProblem,
  resolveTcbLayout,
  tcbMismatchProblem,
} from "../../../../../src/claims/evidence/sev-snp/vek-binding.js";
import type { VekTcb } from "../../../../../src/claims/evidence/sev-snp/vek-extensions.js";
import {
  getSnpTestChain,
  makeSnpReport,
  type SnpReportSpec,
} from "../../../../support/evidence/sev-snp-factory.js";

const MILAN_TCB: TcbVersion = { bootloader: 4, tee: 0, snp: 24, microcode: 219 };
const TURIN_TCB: TcbVersion = { bootloader: 1, tee: 0, snp: 3, microcode: 72, fmc: 1 };

function vekTcb(tcb: TcbVersion, reservedSpls: [string, number][] = []): VekTcb {
  return { ...tcb, fmc: tcb.fmc, reservedSpls: new Map(reservedSpls) };
}

async function parsedReport(spec: SnpReportSpec): Promise<SnpReport> {
  const outcome = parseSnpReport((await makeSnpReport(spec)).evidence);
  if (!outcome.ok) throw new Error(outcome.problem);
  return outcome.report;
}

describe("tcbMismatchProblem: the report's REPORTED_TCB against the certificate's SPLs", () => {
  it("holds when every component matches", () => {
    expect(
      tcbMismatchProblem(
        encodeTcbVersion(MILAN_TCB, "milan-genoa"),
        "milan-genoa",
        vekTcb(MILAN_TCB),
      ),
    ).toBe(undefined);
    expect(
      tcbMismatchProblem(encodeTcbVersion(TURIN_TCB, "turin"), "turin", vekTcb(TURIN_TCB)),
    ).toBe(undefined);
  });

  it.each([
    ["bootloader", { ...MILAN_TCB, bootloader: 3 }, "bootloader 3 (certificate: 4)"],
    ["tee", { ...MILAN_TCB, tee: 1 }, "tee 1 (certificate: 0)"],
    ["snp", { ...MILAN_TCB, snp: 25 }, "snp 25 (certificate: 24)"],
    ["microcode", { ...MILAN_TCB, microcode: 115 }, "microcode 115 (certificate: 219)"],
    [
      "all at once",
      { bootloader: 0, tee: 9, snp: 0, microcode: 0 },
      "bootloader 0 (certificate: 4), tee 9 (certificate: 0), snp 0 (certificate: 24), microcode 0 (certificate: 219)",
    ],
  ])("names a differing %s", (_what, reported, detail) => {
    expect(
      tcbMismatchProblem(
        encodeTcbVersion(reported, "milan-genoa"),
        "milan-genoa",
        vekTcb(MILAN_TCB),
      ),
    ).toBe(`report's reported_tcb does not match the certificate's TCB: ${detail}`);
  });

  it("compares Turin's FMC, and refuses an FMC SPL on a Milan certificate", () => {
    const reported = encodeTcbVersion({ ...TURIN_TCB, fmc: 2 }, "turin");
    expect(tcbMismatchProblem(reported, "turin", vekTcb(TURIN_TCB))).toBe(
      "report's reported_tcb does not match the certificate's TCB: fmc 2 (certificate: 1)",
    );
    expect(
      tcbMismatchProblem(
        encodeTcbVersion(MILAN_TCB, "milan-genoa"),
        "milan-genoa",
        vekTcb({ ...MILAN_TCB, fmc: 0 }),
      ),
    ).toBe("report's reported_tcb does not match the certificate's TCB: fmc none (certificate: 0)");
  });

  it("reads the same bytes differently per layout: a Turin TCB is not a Milan one", () => {
    const turinBytes = encodeTcbVersion(TURIN_TCB, "turin");
    expect(tcbMismatchProblem(turinBytes, "milan-genoa", vekTcb(TURIN_TCB))).toMatch(
      /does not match/,
    );
  });

  it.each([2, 3, 4, 5])("refuses a non-zero reserved byte %i of a Milan TCB", (offset) => {
    const reported = encodeTcbVersion(MILAN_TCB, "milan-genoa");
    reported[offset] = 1;
    expect(tcbMismatchProblem(reported, "milan-genoa", vekTcb(MILAN_TCB))).toBe(
      `report's reported_tcb byte ${offset} is reserved but not zero`,
    );
  });

  it("refuses a certificate whose reserved SPL is not zero", () => {
    const reported = encodeTcbVersion(MILAN_TCB, "milan-genoa");
    expect(
      tcbMismatchProblem(
        reported,
        "milan-genoa",
        vekTcb(MILAN_TCB, [["1.3.6.1.4.1.3704.1.3.5", 1]]),
      ),
    ).toBe("certificate's reserved SPL 1.3.6.1.4.1.3704.1.3.5 is 1, not zero");
  });
});

describe("chipIdProblem and resolveTcbLayout", () => {
  it("compares a Milan CHIP_ID with the whole 64-byte hwID", async () => {
    const report = await parsedReport({});
    const chain = await getSnpTestChain();
    expect(chipIdProblem(report, "Milan", chain.vcek.chipId)).toBe(undefined);
    const other = Buffer.from(chain.vcek.chipId);
    other[63] = (other[63] ?? 0) ^ 1;
    expect(chipIdProblem(report, "Milan", other)).toBe(
      "report's CHIP_ID does not match the VCEK's hwID: the VCEK belongs to another chip",
    );
    expect(chipIdProblem(report, "Milan", undefined)).toMatch(/does not match/);
  });

  it("compares a Turin CHIP_ID's first 8 bytes and insists the rest is zero", async () => {
    const turin = await getSnpTestChain("Turin");
    const id = turin.vcek.chipId.subarray(0, 8);
    expect(chipIdProblem(await parsedReport({ line: "Turin" }), "Turin", id)).toBe(undefined);
    const padded = Buffer.from(turin.vcek.chipId);
    padded[8] = 1;
    expect(
      chipIdProblem(await parsedReport({ line: "Turin", chipId: padded }), "Turin", id),
    ).toMatch(/does not match/);
  });

  it("skips the comparison for a masked chip ID (which must then be zero) and for VLEKs", async () => {
    expect(
      chipIdProblem(await parsedReport({ maskChipKey: true }), "Milan", Buffer.alloc(64, 7)),
    ).toBe(undefined);
    expect(chipIdProblem(await parsedReport({ signingKey: "vlek" }), "Milan", undefined)).toBe(
      undefined,
    );
    const masked = await parsedReport({ maskChipKey: true });
    const notZero = { ...masked, chipId: Buffer.alloc(64, 1) };
    expect(chipIdProblem(notZero, "Milan", undefined)).toBe(
      "chip ID is masked but CHIP_ID is not zero",
    );
  });

  it("takes the layout from the CPUID family (v3+) and checks it against the product line", async () => {
    expect(resolveTcbLayout(await parsedReport({}), "Milan")).toEqual({
      ok: true,
      layout: "milan-genoa",
    });
    expect(resolveTcbLayout(await parsedReport({ line: "Turin" }), "Turin")).toEqual({
      ok: true,
      layout: "turin",
    });
    expect(resolveTcbLayout(await parsedReport({ version: 2, line: "Turin" }), "Turin")).toEqual({
      ok: true,
      layout: "turin",
    });
    expect(resolveTcbLayout(await parsedReport({}), "Turin")).toEqual({
      ok: false,
      problem: "report CPUID family 0x19 model 0x1 is not a Turin (the certificate's product)",
    });
    expect(resolveTcbLayout(await parsedReport({ line: "Genoa" }), "Milan")).toEqual({
      ok: false,
      problem: "report CPUID family 0x19 model 0x11 is not a Milan (the certificate's product)",
    });
    expect(
      resolveTcbLayout(
        await parsedReport({ cpuid: { family: 0x17, model: 0x31, stepping: 0 } }),
        "Milan",
      ),
    ).toEqual({
      ok: false,
      problem: "report CPUID family 0x17 is not a known SEV-SNP family",
    });
  });
});

describe("genuinely signed reports that do not match their VCEK", () => {
  let verifier: EvidenceVerifier;
  beforeAll(async () => {
    verifier = createSevSnpVerifier({ roots: [(await getSnpTestChain()).arkPem] });
  });

  async function problemOf(spec: SnpReportSpec, now = Date.now()): Promise<string> {
    const outcome: EvidenceOutcome = await verifier.verify(await makeSnpReport(spec), now);
    if (outcome.ok) throw new Error("expected the evidence to be refused");
    return outcome.problem;
  }

  it("a report for a newer TCB than its VCEK was issued for", async () => {
    expect(await problemOf({ reportedTcb: { ...MILAN_TCB, snp: 25 } })).toBe(
      "sev-snp: report's reported_tcb does not match the certificate's TCB: snp 25 (certificate: 24)",
    );
  });

  it("a report from another chip", async () => {
    expect(await problemOf({ chipId: Buffer.alloc(64, 0x5a) })).toBe(
      "sev-snp: report's CHIP_ID does not match the VCEK's hwID: the VCEK belongs to another chip",
    );
  });

  it("a report whose CPUID says Turin, signed by a Milan VCEK", async () => {
    expect(await problemOf({ cpuid: { family: 0x1a, model: 0x02, stepping: 1 } })).toBe(
      "sev-snp: report CPUID family 0x1a model 0x2 is not a Milan (the certificate's product)",
    );
  });

  it("a VCEK that expired, or is not yet valid", async () => {
    const chain = await getSnpTestChain();
    const now = Date.now();
    const expired = await chain.issueVek({
      notBefore: new Date(now - 2e9),
      notAfter: new Date(now - 1e9),
    });
    expect(await problemOf({ vek: expired })).toMatch(/^sev-snp: SEV-VCEK expired at /);
    const future = await chain.issueVek({
      notBefore: new Date(now + 1e9),
      notAfter: new Date(now + 2e9),
    });
    expect(await problemOf({ vek: future })).toMatch(/^sev-snp: SEV-VCEK is not valid before /);
  });

  it("a VCEK whose product name is not an SEV-SNP product", async () => {
    const chain = await getSnpTestChain();
    const vek = await chain.issueVek({ productName: "Naples-B2" });
    expect(await problemOf({ vek })).toBe(
      'sev-snp: VCEK certificate product name "Naples-B2" is not Milan, Genoa or Turin',
    );
  });

  it("a Genoa VCEK presented for a Milan chain", async () => {
    const genoa = await getSnpTestChain("Genoa");
    const genoaVek = await genoa.issueVek();
    // Genoa VCEK, Genoa-shaped report, but only the Milan test root is trusted.
    const input = await makeSnpReport({ line: "Genoa", vek: genoaVek });
    const outcome = await verifier.verify(input, Date.now());
    expect(outcome.ok ? "verified" : outcome.problem).toMatch(/is not issued by a pinned ARK/);
  });
});
