import { beforeAll, describe, expect, it } from "vitest";
import type {
  EvidenceInput,
  EvidenceOutcome,
} from "../../../../../src/claims/evidence/evidence.js";
import { createSevSnpVerifier } from "../../../../../src/claims/evidence/sev-snp/sev-snp-verifier.js";
import { getSnpTestChain } from "../../../../support/evidence/sev-snp-factory.js";
import { loadVector, readCertificates, readVectorText, SNP_VECTORS } from "./snp-vectors.js";

const verifier = createSevSnpVerifier();
const MILAN_NOW = SNP_VECTORS["go-sev-guest"].now;

async function problemOf(outcome: Promise<EvidenceOutcome>): Promise<string> {
  const settled = await outcome;
  if (settled.ok) throw new Error("expected the evidence to be refused");
  return settled.problem;
}

/** `input` with bit `bit` of byte `offset` of the report flipped. */
function flipped(input: EvidenceInput, offset: number, bit = 0): EvidenceInput {
  const evidence = Buffer.from(input.evidence);
  evidence[offset] = (evidence[offset] ?? 0) ^ (1 << bit);
  return { evidence, certs: input.certs };
}

describe("the SEV-SNP verifier refuses tampered or mismatched real evidence", () => {
  let goSevGuest: EvidenceInput;
  let trustee: EvidenceInput;
  let vlek: EvidenceInput;
  beforeAll(async () => {
    goSevGuest = await loadVector("go-sev-guest");
    trustee = await loadVector("trustee-vcek");
    vlek = await loadVector("trustee-vlek");
  });

  it.each([
    ["guest SVN", 0x004, 0],
    ["policy (the debug bit 19)", 0x00a, 3],
    ["policy (SMT bit 16)", 0x00a, 0],
    ["family ID", 0x010, 7],
    ["VMPL", 0x030, 0],
    ["current TCB", 0x038, 1],
    ["platform info", 0x040, 1],
    ["report data (first byte)", 0x050, 0],
    ["report data (last byte)", 0x08f, 7],
    ["measurement (first byte)", 0x090, 0],
    ["measurement (last byte)", 0x0bf, 4],
    ["host data", 0x0c0, 2],
    ["ID key digest", 0x0e0, 0],
    ["report ID", 0x140, 0],
    ["reported TCB (SNP SPL)", 0x186, 0],
    ["chip ID", 0x1a0, 0],
    ["committed TCB", 0x1e0, 0],
    ["current major version", 0x1ea, 0],
    ["launch TCB", 0x1f0, 0],
  ])("a flipped bit in the signed %s", async (_field, offset, bit) => {
    expect(await problemOf(verifier.verify(flipped(goSevGuest, offset, bit), MILAN_NOW))).toBe(
      "sev-snp: report signature does not verify with the VCEK's key",
    );
  });

  it.each([
    ["R (lowest byte)", 0x2a0],
    ["R (highest used byte)", 0x2cf],
    ["S (lowest byte)", 0x2e8],
    ["S (highest used byte)", 0x317],
  ])("a flipped bit in the signature's %s", async (_part, offset) => {
    expect(await problemOf(verifier.verify(flipped(trustee, offset), MILAN_NOW))).toBe(
      "sev-snp: report signature does not verify with the VCEK's key",
    );
  });

  it("a signature widened into R's zero padding", async () => {
    expect(await problemOf(verifier.verify(flipped(trustee, 0x2d0), MILAN_NOW))).toBe(
      "sev-snp: signature R [0x2d0, 0x2e8) must be zero (0x2d0 is 0x1)",
    );
  });

  it("the VCEK of another report (swapped)", async () => {
    const swapped = { evidence: trustee.evidence, certs: goSevGuest.certs };
    expect(await problemOf(verifier.verify(swapped, MILAN_NOW))).toBe(
      "sev-snp: report signature does not verify with the VCEK's key",
    );
  });

  it.each(["trustee/test-vcek-invalid-legacy.der", "trustee/test-vcek-invalid-new.der"])(
    "the forged VCEK %s",
    async (path) => {
      const input = { evidence: trustee.evidence, certs: await readCertificates(path) };
      expect(await problemOf(verifier.verify(input, MILAN_NOW))).toBe(
        "sev-snp: SEV-VCEK signature does not verify with the key of CN=SEV-Milan",
      );
    },
  );

  it("a VLEK presented for a VCEK-signed report, and a VCEK for a VLEK-signed one", async () => {
    expect(
      await problemOf(
        verifier.verify({ evidence: trustee.evidence, certs: vlek.certs }, MILAN_NOW),
      ),
    ).toBe("sev-snp: report says it was signed by a VCEK, but the certificate is a SEV-VLEK");
    expect(
      await problemOf(
        verifier.verify({ evidence: vlek.evidence, certs: trustee.certs }, MILAN_NOW),
      ),
    ).toBe("sev-snp: report says it was signed by a VLEK, but the certificate is a SEV-VCEK");
  });

  it("a report whose SIGNING_KEY was switched to VLEK, presented with its VCEK", async () => {
    const switched = flipped(trustee, 0x048, 2);
    expect(await problemOf(verifier.verify(switched, MILAN_NOW))).toBe(
      "sev-snp: report says it was signed by a VLEK, but the certificate is a SEV-VCEK",
    );
  });

  it("a Milan chain when only Genoa's ARK is trusted", async () => {
    const genoaPem = await readVectorText("go-sev-guest/ask_ark_genoa.pem");
    const genoaArk = genoaPem.slice(genoaPem.lastIndexOf("-----BEGIN CERTIFICATE-----"));
    const genoaOnly = createSevSnpVerifier({ roots: [genoaArk] });
    expect(await problemOf(genoaOnly.verify(trustee, MILAN_NOW))).toBe(
      "sev-snp: no CN=SEV-Milan that chains to a pinned ARK was presented or pinned",
    );
    const [milanAsk] = await readCertificates("go-sev-guest/ask_ark_milan.pem");
    const withAsk = {
      evidence: trustee.evidence,
      certs: [...trustee.certs, milanAsk ?? Buffer.alloc(0)],
    };
    expect(await problemOf(genoaOnly.verify(withAsk, MILAN_NOW))).toMatch(
      /^sev-snp: presented CN=SEV-Milan \(sha256 67d303bd[0-9a-f]+\) is not issued by a pinned ARK$/,
    );
  });

  it("a presented ARK that is not pinned", async () => {
    const testChain = await getSnpTestChain();
    const input = { evidence: trustee.evidence, certs: [...trustee.certs, testChain.ark.der] };
    expect(await problemOf(verifier.verify(input, MILAN_NOW))).toMatch(
      /^sev-snp: presented root CN=ARK-Milan \(sha256 [0-9a-f]{64}\) is not a pinned ARK$/,
    );
  });

  it("an ASVK presented in place of the ASK (it is no candidate; the pinned ASK still applies)", async () => {
    const [asvk] = await readCertificates("go-sev-guest/ask_ark_milan_vlek.pem");
    const input = {
      evidence: trustee.evidence,
      certs: [...trustee.certs, asvk ?? Buffer.alloc(0)],
    };
    expect((await verifier.verify(input, MILAN_NOW)).ok).toBe(true);
  });

  it("an expired VCEK at a late clock, and one not yet valid", async () => {
    expect(await problemOf(verifier.verify(goSevGuest, Date.parse("2030-01-01T00:00:00Z")))).toBe(
      "sev-snp: SEV-VCEK expired at 2029-09-24T00:55:28.000Z (now 2030-01-01T00:00:00.000Z)",
    );
    expect(await problemOf(verifier.verify(vlek, Date.parse("2026-01-01T00:00:00Z")))).toBe(
      "sev-snp: SEV-VLEK expired at 2025-12-10T22:14:21.000Z (now 2026-01-01T00:00:00.000Z)",
    );
    const gcp = await loadVector("gcp-v5");
    expect(await problemOf(verifier.verify(gcp, Date.parse("2025-06-01T00:00:00Z")))).toBe(
      "sev-snp: SEV-VCEK is not valid before 2025-12-05T06:04:27.000Z (now 2025-06-01T00:00:00.000Z)",
    );
  });

  it.each([
    [0, "report is 0 bytes; an SEV-SNP report is 1184 (0x4a0)"],
    [1183, "report is 1183 bytes; an SEV-SNP report is 1184 (0x4a0)"],
    [1185, "report is 1185 bytes; an SEV-SNP report is 1184 (0x4a0)"],
  ])("a report of %i bytes", async (size, problem) => {
    const evidence = Buffer.alloc(size);
    goSevGuest.evidence.copy(evidence);
    expect(await problemOf(verifier.verify({ evidence, certs: goSevGuest.certs }, MILAN_NOW))).toBe(
      `sev-snp: ${problem}`,
    );
  });

  it("a truncated report and a truncated VCEK", async () => {
    const truncated = { evidence: goSevGuest.evidence.subarray(0, 0x2a0), certs: goSevGuest.certs };
    expect(await problemOf(verifier.verify(truncated, MILAN_NOW))).toBe(
      "sev-snp: report is 672 bytes; an SEV-SNP report is 1184 (0x4a0)",
    );
    const vcek = goSevGuest.certs[0] ?? Buffer.alloc(0);
    const shortVcek = { evidence: goSevGuest.evidence, certs: [vcek.subarray(0, vcek.length - 1)] };
    expect(await problemOf(verifier.verify(shortVcek, MILAN_NOW))).toMatch(
      /^sev-snp: VCEK certificate: not a DER certificate: /,
    );
  });

  it("no certificate, too many, and ones that are not certificates", async () => {
    expect(
      await problemOf(verifier.verify({ evidence: goSevGuest.evidence, certs: [] }, MILAN_NOW)),
    ).toBe("sev-snp: no VCEK certificate was presented with the report");
    const vcek = goSevGuest.certs[0] ?? Buffer.alloc(0);
    const four = { evidence: goSevGuest.evidence, certs: [vcek, vcek, vcek, vcek] };
    expect(await problemOf(verifier.verify(four, MILAN_NOW))).toBe(
      "sev-snp: 4 certificates presented; at most 3 (VCEK, ASK, ARK)",
    );
    const junk = { evidence: goSevGuest.evidence, certs: [vcek, Buffer.from("not a certificate")] };
    expect(await problemOf(verifier.verify(junk, MILAN_NOW))).toMatch(
      /^sev-snp: certificate 1 certificate: not a DER certificate/,
    );
  });

  it("input that is not bytes, and no usable clock", async () => {
    const notBytes = { evidence: "report" as unknown as Buffer, certs: [] };
    expect(await problemOf(verifier.verify(notBytes, MILAN_NOW))).toBe(
      "sev-snp: evidence is not bytes",
    );
    const certsNotBytes = { evidence: goSevGuest.evidence, certs: ["vcek"] as unknown as Buffer[] };
    expect(await problemOf(verifier.verify(certsNotBytes, MILAN_NOW))).toBe(
      "sev-snp: certificates are not a list of DER byte strings",
    );
    expect(await problemOf(verifier.verify(goSevGuest, Number.NaN))).toBe(
      "sev-snp: no valid time to verify at",
    );
  });
});
