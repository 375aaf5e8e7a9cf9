import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type {
  EvidenceOutcome,
  VerifiedEvidence,
} from "../../../../../src/claims/evidence/evidence.js";
import { createSevSnpVerifier } from "../../../../../src/claims/evidence/sev-snp/sev-snp-verifier.js";
import {
  loadVector,
  pemBlocks,
  readCertificates,
  readVectorText,
  SNP_VECTOR_NAMES,
  SNP_VECTORS,
  SNP_VECTORS_DIR,
} from "./snp-vectors.js";

const verifier = createSevSnpVerifier();

function verified(outcome: EvidenceOutcome): VerifiedEvidence {
  if (!outcome.ok) throw new Error(`expected the evidence to verify, got: ${outcome.problem}`);
  return outcome.evidence;
}

describe("createSevSnpVerifier with the shipped AMD roots", () => {
  it("reads the vectors in place, from the shared/ folder beside the clone", () => {
    const root = fileURLToPath(new URL("../../../../../", import.meta.url));
    expect(fileURLToPath(SNP_VECTORS_DIR)).toBe(
      join(dirname(root), "shared", "vectors", "sev-snp") + "/",
    );
  });

  it.each(SNP_VECTOR_NAMES)("verifies the real %s report at its clock", async (name) => {
    const outcome = await verifier.verify(await loadVector(name), SNP_VECTORS[name].now);
    const evidence = verified(outcome);
    expect(evidence.platform).toBe("sev-snp");
    expect(evidence.measurement).toMatch(/^[0-9a-f]{96}$/);
    expect(evidence.reportData).toHaveLength(64);
    expect(evidence.tcbStatus).toBeUndefined();
    expect(evidence.nonce).toBeUndefined();
    expect(evidence.producedAt).toBeUndefined();
    // JSON-safe: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(evidence.claims))).toEqual(evidence.claims);
  });

  it("reports the go-sev-guest guest exactly, debug policy included", async () => {
    const evidence = verified(
      await verifier.verify(await loadVector("go-sev-guest"), SNP_VECTORS["go-sev-guest"].now),
    );
    expect(evidence.measurement).toBe(
      "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
    );
    // Signature-valid is not acceptable: this genuine report describes a debug guest.
    expect(evidence.debug).toBe(true);
    expect(evidence.svn).toBe(0);
    expect(evidence.reportData.subarray(0, 5).toString("hex")).toBe("0102030405");
    expect(evidence.claims).toMatchObject({
      version: 2,
      vmpl: 0,
      policy: "00000000000b0000",
      policyFlags: {
        debug: true,
        smt: true,
        migrateMa: false,
        singleSocket: false,
        abiMajor: 0,
        abiMinor: 0,
      },
      signingKey: "vcek",
      productName: "Milan-B0",
      productLine: "Milan",
      reportedTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      currentTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      committedTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      launchTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
      currentVersion: "1.49.3",
      chipId:
        "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d",
      reportIdMa: "f".repeat(64),
      platformInfo: { value: "0000000000000001", smtEnabled: true, tsmeEnabled: false },
    });
    expect(evidence.claims).not.toHaveProperty("cpuid");
    expect(evidence.claims).not.toHaveProperty("cspId");
    expect(evidence.claims["reportedTcb"] as object).not.toHaveProperty("fmc");
  });

  it("reports the trustee VLEK report exactly: VMPL 1, an AWS VLEK, v3 CPUID", async () => {
    const evidence = verified(
      await verifier.verify(await loadVector("trustee-vlek"), SNP_VECTORS["trustee-vlek"].now),
    );
    expect(evidence.measurement).toBe(
      "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
    );
    expect(evidence.debug).toBe(false);
    expect(evidence.claims).toMatchObject({
      version: 3,
      vmpl: 1,
      policy: "0000000000030000",
      signingKey: "vlek",
      productName: "Milan",
      cspId: "CN=cc-us-east-2.amazonaws.com",
      cpuid: { family: 0x19, model: 0x01, stepping: 0x01 },
      reportedTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 217 },
      currentTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 220 },
      committedTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
      chipId: "0".repeat(128),
      platformInfo: {
        value: "0000000000000027",
        smtEnabled: true,
        tsmeEnabled: true,
        eccEnabled: true,
        aliasCheckComplete: true,
      },
    });
  });

  it("reports the trustee VCEK report's guest SVN, ID key and an older reported TCB", async () => {
    const evidence = verified(
      await verifier.verify(await loadVector("trustee-vcek"), SNP_VECTORS["trustee-vcek"].now),
    );
    expect(evidence.svn).toBe(4);
    expect(evidence.debug).toBe(false);
    expect(evidence.claims).toMatchObject({
      vmpl: 0,
      policy: "000000000003001f",
      policyFlags: { abiMinor: 31, abiMajor: 0 },
      idKeyDigest:
        "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3",
      // The VCEK is for the reported TCB, which is older than the running one.
      reportedTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
      currentTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 206 },
    });
  });

  it("reads a v5 report's mitigation vectors (GCP)", async () => {
    const evidence = verified(
      await verifier.verify(await loadVector("gcp-v5"), SNP_VECTORS["gcp-v5"].now),
    );
    expect(evidence.claims).toMatchObject({
      version: 5,
      vmpl: 0,
      launchMitVector: "000000000000000b",
      currentMitVector: "000000000000000b",
      cpuid: { family: 0x19, model: 0x01, stepping: 0x01 },
      reportedTcb: { bootloader: 4, tee: 0, snp: 27, microcode: 222 },
      currentVersion: "1.55.35",
      platformInfo: { value: "0000000000000025", aliasCheckComplete: true },
    });
  });

  it("verifies the VMPL 1 GCP report whose report data is SHA-512(nonce ‖ X25519 key)", async () => {
    const text = await readVectorText("teekit-gcp/sev-gcp-x25519-bound.txt");
    const field = (name: string): Buffer =>
      Buffer.from(new RegExp(`^${name}=([0-9a-f]+)$`, "m").exec(text)?.[1] ?? "", "hex");
    const binding = createHash("sha512")
      .update(field("NONCE"))
      .update(field("X25519_KEY"))
      .digest();
    const evidence = verified(
      await verifier.verify(
        await loadVector("gcp-x25519-bound"),
        SNP_VECTORS["gcp-x25519-bound"].now,
      ),
    );
    expect(field("NONCE")).toHaveLength(32);
    expect(evidence.reportData.equals(binding)).toBe(true);
    expect(evidence.claims["vmpl"]).toBe(1);
    expect(evidence.debug).toBe(false);
  });

  it("accepts the published ASK and ARK presented alongside the VCEK", async () => {
    const { evidence, certs } = await loadVector("virtee-milan");
    const chain = await readCertificates(SNP_VECTORS["virtee-milan"].chain ?? "");
    expect(chain).toHaveLength(2);
    const outcome = await verifier.verify(
      { evidence, certs: [...certs, ...chain] },
      SNP_VECTORS["virtee-milan"].now,
    );
    expect(verified(outcome).claims["productName"]).toBe("Milan-B0");
  });

  it("gives each verification its own copy of the report data", async () => {
    const input = await loadVector("gcp-v5");
    const evidence = verified(await verifier.verify(input, SNP_VECTORS["gcp-v5"].now));
    input.evidence.fill(0xee);
    expect(evidence.reportData.equals(Buffer.alloc(64))).toBe(true);
    expect(Object.isFrozen(evidence.claims)).toBe(true);
  });

  it("trusts the ARKs given as roots instead of the shipped ones", async () => {
    const [, milanArk] = pemBlocks(await readVectorText("go-sev-guest/ask_ark_milan.pem"));
    const pem = `-----BEGIN CERTIFICATE-----\n${milanArk?.toString("base64") ?? ""}\n-----END CERTIFICATE-----\n`;
    const onlyMilan = createSevSnpVerifier({ roots: [pem] });
    verified(
      await onlyMilan.verify(await loadVector("trustee-vcek"), SNP_VECTORS["trustee-vcek"].now),
    );
    const gcp = await onlyMilan.verify(await loadVector("gcp-v5"), SNP_VECTORS["gcp-v5"].now);
    expect(gcp.ok).toBe(true);
  });
});
