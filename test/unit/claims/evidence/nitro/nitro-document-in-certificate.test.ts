import { describe, expect, it } from "vitest";
import { findNitroDocumentInCertificate } from "../../../../../src/claims/evidence/nitro/nitro-document-in-certificate.js";
import { decodeNitroDocument } from "../../../../../src/claims/evidence/nitro/nitro-document.js";
import { x509 } from "../../../../../src/crypto/x509.js";
import { issueTestCertificate } from "../../../../support/evidence/nitro-factory.js";
import { CERT_CONTAINING, readCertificateVector, readVector } from "./nitro-vectors.js";

const documentHex = readVector("evervault/test-data/beta/valid-attestation-doc-bytes").toString(
  "hex",
);

async function certificateWithSans(dnsNames: readonly string[] | undefined): Promise<Buffer> {
  const extraExtensions =
    dnsNames === undefined
      ? []
      : [
          new x509.SubjectAlternativeNameExtension(
            dnsNames.map((value) => ({ type: "dns" as const, value })),
          ),
        ];
  const certificate = await issueTestCertificate({
    commonName: "enclave",
    isCa: false,
    notBefore: new Date("2024-01-01T00:00:00Z"),
    notAfter: new Date("2025-01-01T00:00:00Z"),
    extraExtensions,
  });
  return certificate.der;
}

describe("findNitroDocumentInCertificate", () => {
  it.each(Object.values(CERT_CONTAINING))("finds the document in %s", (path) => {
    const found = findNitroDocumentInCertificate(readCertificateVector(path));
    if (!found.ok) throw new Error(found.problem);
    expect(found.document.subarray(0, 4).toString("hex")).toBe("8444a101");
    expect(decodeNitroDocument(found.document).ok).toBe(true);
  });

  it("reads the first label of the one dNSName that carries a document", async () => {
    const der = await certificateWithSans([
      "enclave.example.com",
      `${documentHex}.enclave.example.com`,
      "cafe.example",
    ]);
    const found = findNitroDocumentInCertificate(der);
    expect(found.ok && found.document.toString("hex")).toBe(documentHex);
  });

  it.each([
    ["no SAN extension", undefined, "no SAN dNSName carries a document"],
    [
      "only ordinary host names, some of them hex",
      ["enclave.example.com", "cafe.example"],
      "no SAN dNSName carries a document",
    ],
    [
      "a document in upper-case hex",
      [`${documentHex.toUpperCase()}.example.com`],
      "no SAN dNSName carries a document",
    ],
    [
      "a document of odd length",
      [`${documentHex}a.example.com`],
      "no SAN dNSName carries a document",
    ],
    [
      "two documents",
      [`${documentHex}.a.example.com`, `${documentHex}.b.example.com`],
      "several SAN dNSNames carry a document",
    ],
  ])("refuses %s", async (_name, dnsNames, problem) => {
    expect(findNitroDocumentInCertificate(await certificateWithSans(dnsNames))).toEqual({
      ok: false,
      problem,
    });
  });

  it("refuses bytes that are not a DER certificate", () => {
    const found = findNitroDocumentInCertificate(Buffer.from("not a certificate"));
    expect(found.ok).toBe(false);
    expect(!found.ok && found.problem).toMatch(/^certificate: /);
  });
});
