import { X509Certificate, createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  findExpired,
  loadTrustedRoot,
  verifyChainToRoot,
  type ChainShape,
  type TrustedRoot,
} from "../../../../../src/claims/evidence/tdx/certificate-chain.js";
import {
  INTEL_SGX_ROOT_CA_PEM,
  INTEL_SGX_ROOT_CA_SHA256,
} from "../../../../../src/claims/evidence/tdx/intel-root.js";
import { parsePemCertificates } from "../../../../../src/claims/evidence/tdx/pem-certificates.js";
import { readTdxVector } from "./tdx-vectors.js";

function rootOf(pem: string): TrustedRoot {
  const loaded = loadTrustedRoot(pem);
  if (!loaded.ok) throw new Error(loaded.problem);
  return loaded.root;
}

function pemCertificates(relative: string): readonly Buffer[] {
  const parsed = parsePemCertificates(readTdxVector(relative), relative, 3);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.certificates;
}

const PCK_SHAPE: ChainShape = {
  what: "PCK certificate chain",
  leafNames: ["Intel SGX PCK Certificate"],
  isLeafCa: false,
  caNames: ["Intel SGX PCK Platform CA", "Intel SGX PCK Processor CA"],
};

describe("the pinned Intel SGX Root CA", () => {
  it("is go-tdx-guest's trusted_root.pem, with the published fingerprint", () => {
    const [vector] = pemCertificates("go-tdx-guest/trusted_root.pem");
    const root = rootOf(INTEL_SGX_ROOT_CA_PEM);
    expect(root.der).toEqual(vector);
    expect(root.sha256).toBe(INTEL_SGX_ROOT_CA_SHA256);
    expect(createHash("sha256").update(root.der).digest("hex")).toBe(
      "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
    );
  });

  it("refuses a root that is not a self-signed CA", () => {
    const pck = readTdxVector("teekit-synthetic/pckCert.pem").toString("latin1");
    expect(loadTrustedRoot(pck)).toEqual({ ok: false, problem: "root: not a CA certificate" });
  });
});

describe("verifyChainToRoot, on the synthetic Intel-QVL-style PKI (teekit)", () => {
  // pckSignChain.pem holds the root first, then the PCK Processor CA.
  const [syntheticRootDer, processorCa] = pemCertificates("teekit-synthetic/pckSignChain.pem");
  const [pck] = pemCertificates("teekit-synthetic/pckCert.pem");
  const synthetic = rootOf(
    readTdxVector("teekit-synthetic/trustedRootCaCert.pem").toString("latin1"),
  );
  const pinned = rootOf(INTEL_SGX_ROOT_CA_PEM);
  if (pck === undefined || processorCa === undefined || syntheticRootDer === undefined) {
    throw new Error("teekit-synthetic vectors are incomplete");
  }

  it("accepts the chain when its own root is configured", () => {
    const chain = verifyChainToRoot([pck, processorCa, syntheticRootDer], synthetic, PCK_SHAPE);
    expect(chain.ok && chain.certificates.map((c) => c.subject.split("\n")[0])).toEqual([
      "CN=Intel SGX PCK Certificate",
      "CN=Intel SGX PCK Processor CA",
    ]);
    expect(
      chain.ok && findExpired(chain.certificates, Date.parse("2026-01-01T00:00:00Z"), "chain"),
    ).toBeUndefined();
  });

  it("refuses it against the pinned Intel root, with or without the root in the chain", () => {
    expect(verifyChainToRoot([pck, processorCa, syntheticRootDer], pinned, PCK_SHAPE)).toEqual({
      ok: false,
      problem: "PCK certificate chain: ends in a root other than the trusted root",
    });
    expect(verifyChainToRoot([pck, processorCa], pinned, PCK_SHAPE)).toEqual({
      ok: false,
      problem:
        'PCK certificate chain: "Intel SGX PCK Processor CA" is not issued by the trusted root',
    });
  });

  it("refuses chains of the wrong shape", () => {
    expect(verifyChainToRoot([pck], synthetic, PCK_SHAPE)).toEqual({
      ok: false,
      problem: "PCK certificate chain: expected 2 certificate(s) below the root, found 1",
    });
    expect(verifyChainToRoot([processorCa, pck], synthetic, PCK_SHAPE)).toEqual({
      ok: false,
      problem: 'PCK certificate chain: "Intel SGX PCK Processor CA" is a CA certificate',
    });
    expect(
      verifyChainToRoot([pck, processorCa], synthetic, {
        ...PCK_SHAPE,
        leafNames: ["Intel SGX TCB Signing"],
      }),
    ).toEqual({
      ok: false,
      problem: 'PCK certificate chain: unexpected leaf "Intel SGX PCK Certificate"',
    });
  });

  it("reports validity against the clock it is given", () => {
    const certificate = new X509Certificate(pck);
    expect(findExpired([certificate], Date.parse("2030-01-01T00:00:00Z"), "chain")).toBe(
      'chain: "Intel SGX PCK Certificate" expired at 2028-08-06T13:55:14.000Z',
    );
  });
});
