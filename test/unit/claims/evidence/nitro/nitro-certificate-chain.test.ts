import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { AWS_NITRO_ROOT_G1_PEM } from "../../../../../src/claims/evidence/nitro/aws-nitro-root.js";
import {
  verifyNitroCertificateChain,
  type NitroChainInput,
} from "../../../../../src/claims/evidence/nitro/nitro-certificate-chain.js";
import { x509 } from "../../../../../src/crypto/x509.js";
import {
  issueTestCertificate,
  type TestCertificate,
  type TestCertificateSpec,
} from "../../../../support/evidence/nitro-factory.js";
import { flipBit, payloadField } from "./nitro-tamper.js";
import { realNitroDocuments, type RealNitroDocument } from "./nitro-vectors.js";

const AWS_ROOT = new X509Certificate(AWS_NITRO_ROOT_G1_PEM).raw;
const [blocky] = realNitroDocuments() as [RealNitroDocument];

/** blocky-nitrite's real chain, checked at `at`. */
function realChain(at: number, edit: Partial<NitroChainInput> = {}): NitroChainInput {
  return {
    certificate: payloadField(blocky.bytes, "certificate") as Uint8Array,
    cabundle: payloadField(blocky.bytes, "cabundle") as Uint8Array[],
    root: AWS_ROOT,
    at,
    ...edit,
  };
}

function problemOf(input: NitroChainInput): string {
  const outcome = verifyNitroCertificateChain(input);
  return outcome.ok ? "ok" : outcome.problem;
}

describe("the real AWS chain (blocky-nitrite, 2024-09-07)", () => {
  const leafFrom = Date.parse("2024-09-07T14:37:36Z");
  const leafTo = Date.parse("2024-09-07T17:37:39Z");

  it("holds at the document's time and yields the P-384 leaf", () => {
    const outcome = verifyNitroCertificateChain(realChain(blocky.timestamp));
    expect(outcome.ok).toBe(true);
    if (outcome.ok)
      expect(outcome.leaf.subject).toContain("i-0a22e5c5f24d22174-enc0191cceb4289903f");
  });

  it.each([
    ["the leaf's first second", leafFrom, "ok"],
    ["the last millisecond of the leaf's last second", leafTo + 999, "ok"],
    [
      "a millisecond before the leaf's life",
      leafFrom - 1,
      "certificate chain: certificate: not yet valid at the document's time (valid from 2024-09-07T14:37:36.000Z)",
    ],
    [
      "the second after the leaf's life",
      leafTo + 1000,
      "certificate chain: certificate: expired at the document's time (valid to 2024-09-07T17:37:39.000Z)",
    ],
    [
      "the request time of today, not the document's",
      Date.parse("2026-01-01T00:00:00Z"),
      "certificate chain: certificate: expired at the document's time (valid to 2024-09-07T17:37:39.000Z)",
    ],
  ])("at %s: %s", (_name, at, problem) => {
    expect(problemOf(realChain(at))).toBe(problem);
  });

  it.each([
    [
      "another pinned root",
      (input: NitroChainInput) => ({ ...input, root: Buffer.from(input.cabundle[1] ?? []) }),
      "certificate chain: cabundle[0] is not the pinned root",
    ],
    [
      "the cabundle in leaf-first order",
      (input: NitroChainInput) => ({ ...input, cabundle: [...input.cabundle].reverse() }),
      "certificate chain: cabundle[0] is not the pinned root",
    ],
    [
      "an empty cabundle",
      (input: NitroChainInput) => ({ ...input, cabundle: [] }),
      "certificate chain: cabundle is empty",
    ],
    [
      "a missing zonal CA",
      (input: NitroChainInput) => ({
        ...input,
        cabundle: input.cabundle.filter((_certificate, index) => index !== 2),
      }),
      "certificate chain: cabundle[2] was not issued by cabundle[1]",
    ],
    [
      "the leaf as its own issuer",
      (input: NitroChainInput) => ({ ...input, cabundle: [...input.cabundle, input.certificate] }),
      "certificate chain: cabundle[4]: not a CA certificate",
    ],
    [
      "a leaf whose signature was altered",
      (input: NitroChainInput) => ({
        ...input,
        certificate: flipBit(Buffer.from(input.certificate), input.certificate.length - 1),
      }),
      "certificate chain: certificate: signature does not verify with cabundle[3]'s key",
    ],
    [
      "a leaf given as PEM",
      (input: NitroChainInput) => ({
        ...input,
        certificate: Buffer.from(new X509Certificate(input.certificate).toString()),
      }),
      "certificate chain: certificate: not exactly one DER certificate",
    ],
    [
      "a leaf with a trailing byte",
      (input: NitroChainInput) => ({
        ...input,
        certificate: Buffer.concat([input.certificate, Buffer.from([0])]),
      }),
      "certificate chain: certificate: not exactly one DER certificate",
    ],
    [
      "a leaf that is not a certificate",
      (input: NitroChainInput) => ({ ...input, certificate: Buffer.from("3003020101", "hex") }),
      "certificate chain: certificate: not an X.509 certificate",
    ],
  ])("refuses %s", (_name, edit, problem) => {
    expect(problemOf(edit(realChain(blocky.timestamp)))).toBe(problem);
  });
});

describe("each certificate's own checks (a test PKI)", () => {
  const at = Date.parse("2030-06-01T12:00:00Z");
  const wide = {
    notBefore: new Date("2029-01-01T00:00:00Z"),
    notAfter: new Date("2031-01-01T00:00:00Z"),
  };
  let root: TestCertificate;

  beforeAll(async () => {
    root = await issueTestCertificate({ commonName: "root", isCa: true, ...wide });
  });

  /** root -> CA -> leaf, with `caSpec` and `leafSpec` edits; checked at `at`. */
  async function chainOf(
    caSpec: Partial<TestCertificateSpec> = {},
    leafSpec: Partial<TestCertificateSpec> = {},
  ): Promise<NitroChainInput> {
    const ca = await issueTestCertificate({
      commonName: "instance",
      issuer: root,
      isCa: true,
      pathLength: 0,
      ...wide,
      ...caSpec,
    });
    const leaf = await issueTestCertificate({
      commonName: "leaf",
      issuer: ca,
      isCa: false,
      ...wide,
      ...leafSpec,
    });
    return { certificate: leaf.der, cabundle: [root.der, ca.der], root: root.der, at };
  }

  it("a well-formed chain holds", async () => {
    expect(problemOf(await chainOf())).toBe("ok");
  });

  it.each<[string, Partial<TestCertificateSpec>, Partial<TestCertificateSpec>, string]>([
    [
      "a CA without CA:TRUE",
      { isCa: false, keyUsage: "ca" },
      {},
      "cabundle[1]: not a CA certificate",
    ],
    [
      "a CA without keyCertSign",
      { keyUsage: "signing" },
      {},
      "cabundle[1]: key usage does not include keyCertSign",
    ],
    [
      "a CA without key usage",
      { keyUsage: "none" },
      {},
      "cabundle[1]: key usage does not include keyCertSign",
    ],
    ["a leaf that is a CA", {}, { isCa: true }, "certificate: the signing certificate is a CA"],
    [
      "a leaf without key usage",
      {},
      { keyUsage: "none" },
      "certificate: key usage does not include digitalSignature",
    ],
    ["a P-256 leaf", {}, { curve: "P-256" }, "certificate: key is not ECDSA P-384"],
    [
      "a CA signed with SHA-256",
      { hash: "SHA-256" },
      {},
      "cabundle[1]: signed with 1.2.840.10045.4.3.2, not ecdsa-with-SHA384",
    ],
    [
      "an unknown critical extension",
      {},
      { extraExtensions: [new x509.Extension("1.2.3.4", true, new Uint8Array([5, 0]))] },
      "certificate: unhandled critical extension 1.2.3.4",
    ],
    [
      "a CA expired at the document's time",
      { notAfter: new Date("2030-06-01T11:59:59Z") },
      {},
      "cabundle[1]: expired at the document's time (valid to 2030-06-01T11:59:59.000Z)",
    ],
    [
      "a CA not yet valid at the document's time",
      { notBefore: new Date("2030-06-01T12:00:01Z") },
      {},
      "cabundle[1]: not yet valid at the document's time (valid from 2030-06-01T12:00:01.000Z)",
    ],
  ])("refuses %s", async (_name, caSpec, leafSpec, problem) => {
    expect(problemOf(await chainOf(caSpec, leafSpec))).toBe(`certificate chain: ${problem}`);
  });

  it("refuses a root expired at the document's time", async () => {
    const input = await chainOf();
    expect(problemOf({ ...input, at: Date.parse("2031-01-01T00:00:01Z") })).toMatch(
      /^certificate chain: certificate: expired at the document's time/,
    );
    const shortRoot = await issueTestCertificate({
      commonName: "short-lived root",
      isCa: true,
      notBefore: wide.notBefore,
      notAfter: new Date("2030-01-01T00:00:00Z"),
    });
    const ca = await issueTestCertificate({
      commonName: "ca",
      issuer: shortRoot,
      isCa: true,
      ...wide,
    });
    const leaf = await issueTestCertificate({
      commonName: "leaf",
      issuer: ca,
      isCa: false,
      ...wide,
    });
    expect(
      problemOf({
        certificate: leaf.der,
        cabundle: [shortRoot.der, ca.der],
        root: shortRoot.der,
        at,
      }),
    ).toBe(
      "certificate chain: cabundle[0]: expired at the document's time (valid to 2030-01-01T00:00:00.000Z)",
    );
  });

  it("refuses a CA asked to head a longer path than its pathLenConstraint", async () => {
    const regional = await issueTestCertificate({
      commonName: "regional",
      issuer: root,
      isCa: true,
      pathLength: 0,
      ...wide,
    });
    const instance = await issueTestCertificate({
      commonName: "instance",
      issuer: regional,
      isCa: true,
      pathLength: 0,
      ...wide,
    });
    const leaf = await issueTestCertificate({
      commonName: "leaf",
      issuer: instance,
      isCa: false,
      ...wide,
    });
    expect(
      problemOf({
        certificate: leaf.der,
        cabundle: [root.der, regional.der, instance.der],
        root: root.der,
        at,
      }),
    ).toBe("certificate chain: cabundle[1]: path length 1 exceeds its pathLenConstraint 0");
  });

  it("refuses a CA that signs under another CA's name", async () => {
    const input = await chainOf();
    // Same subject name and key identifier scheme, another key: the link's signature fails.
    const impostor = await issueTestCertificate({
      commonName: "instance",
      issuer: root,
      isCa: true,
      pathLength: 0,
      ...wide,
    });
    const problem = problemOf({ ...input, cabundle: [root.der, impostor.der] });
    expect(problem).toBe("certificate chain: certificate was not issued by cabundle[1]");
  });
});
