import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type {
  EvidenceOutcome,
  EvidenceVerifier,
  VerifiedEvidence,
} from "../../../../../src/claims/evidence/evidence.js";
import { createSevSnpVerifier } from "../../../../../src/claims/evidence/sev-snp/sev-snp-verifier.js";
import {
  createSnpTestChain,
  getSnpTestChain,
  makeSnpReport,
  type SnpTestChain,
} from "../../../../support/evidence/sev-snp-factory.js";

const NOW = Date.now();

function verified(outcome: EvidenceOutcome): VerifiedEvidence {
  if (!outcome.ok) throw new Error(`expected the evidence to verify, got: ${outcome.problem}`);
  return outcome.evidence;
}

function problemOf(outcome: EvidenceOutcome): string {
  if (outcome.ok) throw new Error("expected the evidence to be refused");
  return outcome.problem;
}

describe("the SEV-SNP test factory", () => {
  let chain: SnpTestChain;
  let verifier: EvidenceVerifier;
  beforeAll(async () => {
    chain = await getSnpTestChain();
    verifier = createSevSnpVerifier({ roots: [chain.arkPem] });
  });

  it("makes a fresh, bound report that verifies against the test root", async () => {
    const binding = createHash("sha512").update("nonce and key").digest();
    const measurement = createHash("sha384").update("verigate-test-guest").digest();
    const evidence = verified(
      await verifier.verify(
        await makeSnpReport({ measurement, reportData: binding, guestSvn: 7 }),
        NOW,
      ),
    );
    expect(evidence.measurement).toBe(measurement.toString("hex"));
    expect(evidence.reportData.equals(binding)).toBe(true);
    expect(evidence.debug).toBe(false);
    expect(evidence.svn).toBe(7);
    expect(evidence.claims).toMatchObject({
      version: 3,
      vmpl: 0,
      signingKey: "vcek",
      productName: "Milan-B1",
      reportedTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
    });
  });

  it("makes a debug report that reports debug", async () => {
    const evidence = verified(
      await verifier.verify(await makeSnpReport({ debug: true, vmpl: 2 }), NOW),
    );
    expect(evidence.debug).toBe(true);
    expect(evidence.claims).toMatchObject({
      vmpl: 2,
      policy: "00000000000b0000",
      policyFlags: { debug: true },
    });
  });

  it("is not trusted by the shipped AMD roots", async () => {
    const outcome = await createSevSnpVerifier().verify(await makeSnpReport(), NOW);
    expect(problemOf(outcome)).toMatch(/presented CN=SEV-Milan .* is not issued by a pinned ARK/);
  });

  it("makes VLEK-signed reports that chain through the ASVK", async () => {
    const evidence = verified(
      await verifier.verify(await makeSnpReport({ signingKey: "vlek" }), NOW),
    );
    expect(evidence.claims).toMatchObject({
      signingKey: "vlek",
      productName: "Milan",
      cspId: "CN=verigate.test",
    });
  });

  it("makes v2 and v5 reports", async () => {
    const v2 = verified(await verifier.verify(await makeSnpReport({ version: 2 }), NOW));
    expect(v2.claims["version"]).toBe(2);
    expect(v2.claims).not.toHaveProperty("cpuid");
    const v5 = verified(await verifier.verify(await makeSnpReport({ version: 5 }), NOW));
    expect(v5.claims).toMatchObject({ version: 5, launchMitVector: "000000000000000b" });
  });

  it("reads a Turin report with the Turin TCB layout (FMC first) and an 8-byte chip ID", async () => {
    const turin = await getSnpTestChain("Turin");
    const turinVerifier = createSevSnpVerifier({ roots: [turin.arkPem] });
    const evidence = verified(
      await turinVerifier.verify(await makeSnpReport({ line: "Turin" }), NOW),
    );
    expect(evidence.claims).toMatchObject({
      productLine: "Turin",
      cpuid: { family: 0x1a },
      reportedTcb: { fmc: 1, bootloader: 1, tee: 0, snp: 3, microcode: 72 },
      chipId: turin.vcek.chipId.toString("hex"),
    });
    expect(turin.vcek.chipId.subarray(8).every((byte) => byte === 0)).toBe(true);
  });

  it("reads a Genoa report", async () => {
    const genoa = await getSnpTestChain("Genoa");
    const outcome = await createSevSnpVerifier({ roots: [genoa.arkPem] }).verify(
      await makeSnpReport({ line: "Genoa" }),
      NOW,
    );
    expect(verified(outcome).claims).toMatchObject({
      productLine: "Genoa",
      cpuid: { family: 0x19, model: 0x11 },
    });
  });

  it("accepts a VCEK whose hwID is wrapped in an OCTET STRING (the newer KDS encoding)", async () => {
    const vek = await chain.issueVek({ hwIdEncoding: "octet-string" });
    verified(await verifier.verify(await makeSnpReport({ vek }), NOW));
  });

  it("accepts a masked chip ID (CHIP_ID all zero) without comparing it", async () => {
    const evidence = verified(
      await verifier.verify(await makeSnpReport({ maskChipKey: true }), NOW),
    );
    expect(evidence.claims).toMatchObject({ maskChipKey: true, chipId: "0".repeat(128) });
  });

  it("finds the ASK among configured intermediates when only the VCEK is presented", async () => {
    const input = await makeSnpReport({ includeIssuer: false });
    expect(problemOf(await verifier.verify(input, NOW))).toMatch(
      /no CN=SEV-Milan that chains to a pinned ARK was presented or pinned/,
    );
    const withAsk = createSevSnpVerifier({ roots: [chain.arkPem], intermediates: [chain.ask.pem] });
    verified(await withAsk.verify(input, NOW));
  });

  it("is not trusted by another test root", async () => {
    const other = await createSnpTestChain("Milan");
    const outcome = await createSevSnpVerifier({ roots: [other.arkPem] }).verify(
      await makeSnpReport(),
      NOW,
    );
    expect(problemOf(outcome)).toMatch(/is not issued by a pinned ARK/);
  });
});
