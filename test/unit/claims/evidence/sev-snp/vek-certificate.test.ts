import { describe, expect, it } from "vitest";
import {
  CertificateFormatError,
  isIssuedBy,
  parseAmdCertificate,
  validityProblem,
  type AmdCertificate,
} from "../../../../../src/claims/evidence/sev-snp/amd-certificate.js";
import { isRsaPssSha384 } from "../../../../../src/claims/evidence/sev-snp/rsa-pss-sha384.js";
import { readVekExtensions } from "../../../../../src/claims/evidence/sev-snp/vek-extensions.js";
import { createCertificateAuthority } from "../../../../../src/dev-pki/certificate-authority.js";
import { der } from "../../../../support/pki.js";
import { getSnpTestChain } from "../../../../support/evidence/sev-snp-factory.js";
import { readCertificates, readVectorFile } from "./snp-vectors.js";

async function certificate(path: string): Promise<AmdCertificate> {
  const [first] = await readCertificates(path);
  return parseAmdCertificate(first ?? Buffer.alloc(0));
}

const INCREASING = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

describe("parseAmdCertificate", () => {
  it("reads a real VCEK's names, validity and extensions", async () => {
    const vcek = await certificate("go-sev-guest/vcek.der");
    expect(vcek.subjectCommonName).toBe("SEV-VCEK");
    expect(vcek.issuerCommonName).toBe("SEV-Milan");
    expect(new Date(vcek.notBefore).toISOString()).toBe("2022-09-24T00:55:28.000Z");
    expect(new Date(vcek.notAfter).toISOString()).toBe("2029-09-24T00:55:28.000Z");
    expect(vcek.isCa).toBe(false);
    expect(vcek.isSignedWithRsaPssSha384).toBe(true);
    expect([...vcek.extensions.keys()]).toContain("1.3.6.1.4.1.3704.1.4");
    expect(vcek.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(validityProblem(vcek, Date.parse("2025-01-01T00:00:00Z"), "VCEK")).toBe(undefined);
  });

  it("checks a signature only against the issuer whose name and key match", async () => {
    const vcek = await certificate("go-sev-guest/vcek.der");
    const [ask, ark] = (await readCertificates("go-sev-guest/ask_ark_milan.pem")).map((d) =>
      parseAmdCertificate(d),
    );
    const [asvk] = (await readCertificates("go-sev-guest/ask_ark_milan_vlek.pem")).map((d) =>
      parseAmdCertificate(d),
    );
    if (ask === undefined || ark === undefined || asvk === undefined) throw new Error("bundle");
    expect(isIssuedBy(vcek, ask)).toBe(true);
    expect(isIssuedBy(ask, ark)).toBe(true);
    expect(isIssuedBy(vcek, ark)).toBe(false);
    expect(isIssuedBy(vcek, asvk)).toBe(false);
  });

  it("notices a certificate that is not signed with RSASSA-PSS SHA-384", async () => {
    const ca = await createCertificateAuthority({ commonName: "ARK-Milan" });
    const ecdsa = parseAmdCertificate(Buffer.from(ca.certificate.rawData));
    expect(ecdsa.isSignedWithRsaPssSha384).toBe(false);
    expect(isIssuedBy(ecdsa, ecdsa)).toBe(false);
  });

  it("reads the @peculiar/x509 encoding of RSASSA-PSS (no NULL hash parameters, no trailer)", async () => {
    const chain = await getSnpTestChain();
    const ark = parseAmdCertificate(chain.ark.der);
    expect(ark.isSignedWithRsaPssSha384).toBe(true);
    expect(isIssuedBy(ark, ark)).toBe(true);
  });

  it.each([
    ["trailing data", (d: Buffer) => Buffer.concat([d, Buffer.from([0])]), /not a DER certificate/],
    [
      "a truncated certificate",
      (d: Buffer) => d.subarray(0, d.length - 10),
      /not a DER certificate/,
    ],
    ["a report instead", (_d: Buffer) => Buffer.alloc(0x4a0), /not a DER certificate/],
    [
      "more than 8 KiB",
      (_d: Buffer) => Buffer.alloc(8193),
      /certificate is 8193 bytes \(at most 8192\)/,
    ],
  ])("refuses %s", async (_what, mangle, problem) => {
    const [vcek] = await readCertificates("go-sev-guest/vcek.der");
    expect(() => parseAmdCertificate(mangle(vcek ?? Buffer.alloc(0)))).toThrow(
      CertificateFormatError,
    );
    expect(() => parseAmdCertificate(mangle(vcek ?? Buffer.alloc(0)))).toThrow(problem);
  });
});

describe("isRsaPssSha384", () => {
  const oid = (hex: string): Buffer =>
    Buffer.from(`06${(hex.length / 2).toString(16).padStart(2, "0")}${hex}`, "hex");
  const seq = (...parts: Uint8Array[]): Buffer => Buffer.from(der(0x30, ...parts));
  const tagged = (tag: number, ...parts: Uint8Array[]): Buffer => Buffer.from(der(tag, ...parts));
  const PSS = oid("2a864886f70d01010a");
  const MGF1 = oid("2a864886f70d010108");
  const SHA384 = oid("608648016503040202");
  const SHA256 = oid("608648016503040201");
  const NULL = Buffer.from("0500", "hex");
  const int = (n: number): Buffer => Buffer.from([0x02, 0x01, n]);
  const params = (hash: Buffer, mgfHash: Buffer, salt: number, trailer?: number): Buffer =>
    Buffer.concat([
      PSS,
      seq(
        tagged(0xa0, seq(hash, NULL)),
        tagged(0xa1, seq(MGF1, seq(mgfHash, NULL))),
        tagged(0xa2, int(salt)),
        ...(trailer === undefined ? [] : [tagged(0xa3, int(trailer))]),
      ),
    ]);

  it.each([
    ["AMD's encoding (trailer given)", params(SHA384, SHA384, 48, 1), true],
    ["without the trailer", params(SHA384, SHA384, 48), true],
    ["SHA-256", params(SHA256, SHA384, 48), false],
    ["MGF1 with SHA-256", params(SHA384, SHA256, 48), false],
    ["salt 32", params(SHA384, SHA384, 32), false],
    ["trailer 2", params(SHA384, SHA384, 48, 2), false],
    ["plain rsaEncryption", Buffer.concat([oid("2a864886f70d010101"), NULL]), false],
    ["defaults (SHA-1)", Buffer.concat([PSS, seq()]), false],
    ["garbage", Buffer.from("ffff", "hex"), false],
  ])("%s: %s", (_what, content, expected) => {
    expect(isRsaPssSha384(content)).toBe(expected);
  });
});

describe("readVekExtensions", () => {
  it("reads a Milan VCEK: product, TCB SPLs, the 64-byte hwID", async () => {
    const extensions = readVekExtensions(await certificate("go-sev-guest/vcek.der"));
    const report = await readVectorFile("go-sev-guest/attestation.bin");
    expect(extensions.productName).toBe("Milan-B0");
    expect(extensions.productLine).toBe("Milan");
    expect(extensions.tcb).toMatchObject({
      bootloader: 2,
      tee: 0,
      snp: 5,
      microcode: 68,
      fmc: undefined,
    });
    expect([...extensions.tcb.reservedSpls.values()]).toEqual([0, 0, 0, 0]);
    expect(extensions.hwId?.equals(report.subarray(0x1a0, 0x1e0))).toBe(true);
    expect(extensions.cspId).toBeUndefined();
  });

  it("reads a VLEK: no hwID, a CSP ID, a two-byte microcode SPL", async () => {
    const extensions = readVekExtensions(await certificate("trustee/test-vlek.der"));
    expect(extensions).toMatchObject({
      productName: "Milan",
      cspId: "CN=cc-us-east-2.amazonaws.com",
    });
    expect(extensions.hwId).toBeUndefined();
    expect(extensions.tcb.microcode).toBe(217);
  });

  it("reads a Turin VCEK: the FMC SPL and an 8-byte hwID", async () => {
    const extensions = readVekExtensions(await certificate("virtee-sev/vcek_turin.der"));
    expect(extensions.productLine).toBe("Turin");
    expect(extensions.tcb).toMatchObject({ fmc: 0, bootloader: 0, tee: 0, snp: 0, microcode: 9 });
    expect(extensions.hwId?.toString("hex")).toBe("1e550a8ee5cf9f4d");
  });

  it("reads hwID both raw (legacy KDS) and wrapped in an OCTET STRING (newer KDS)", async () => {
    const legacy = readVekExtensions(await certificate("trustee/test-vcek-invalid-legacy.der"));
    const wrapped = readVekExtensions(await certificate("trustee/test-vcek-invalid-new.der"));
    expect(legacy.hwId?.equals(INCREASING)).toBe(true);
    expect(wrapped.hwId?.equals(INCREASING)).toBe(true);
  });

  it("refuses a certificate without AMD's extensions", async () => {
    const chain = await getSnpTestChain();
    expect(() => readVekExtensions(parseAmdCertificate(chain.ark.der))).toThrow(
      "has no product name extension",
    );
  });

  it.each([
    [
      "an unknown product",
      { productName: "Naples-B2" },
      'product name "Naples-B2" is not Milan, Genoa or Turin',
    ],
    [
      "a product name with a stray suffix",
      { productName: "Milan-B0 " },
      "is not Milan, Genoa or Turin",
    ],
  ])("refuses %s", async (_what, spec, problem) => {
    const chain = await getSnpTestChain();
    const vek = await chain.issueVek(spec);
    expect(() => readVekExtensions(parseAmdCertificate(vek.der))).toThrow(problem);
  });
});
