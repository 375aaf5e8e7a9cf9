import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { subjectPublicKeyInfo } from "../../../src/claims/certificate-key.js";
import { createTestPki, type TestPki } from "../../support/pki.js";

const AWS_NITRO_ROOT = fileURLToPath(
  new URL("../../../../shared/vectors/nitro/aws-nitro-root-g1.pem", import.meta.url),
);

function nodeSpki(der: Buffer): Buffer {
  return new X509Certificate(der).publicKey.export({ type: "spki", format: "der" });
}

describe("subjectPublicKeyInfo", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it("is the key Node reads, for test certificates and a real vendor root (P-384)", () => {
    const pems = [
      pki.clients.alice.certPem,
      pki.clients.viaIntermediate.certPem,
      pki.ca.certPem,
      readFileSync(AWS_NITRO_ROOT, "utf8"),
    ];
    for (const pem of pems) {
      const der = new X509Certificate(pem).raw;
      expect(subjectPublicKeyInfo(der).equals(nodeSpki(der))).toBe(true);
    }
  });

  it("falls back to Node for an encoding the strict reader refuses", () => {
    const der = new X509Certificate(pki.clients.alice.certPem).raw;
    // The same certificate with a trailing byte after it: Node reads the certificate, DER does not.
    const padded = Buffer.concat([der, Buffer.from([0])]);
    expect(() => new X509Certificate(padded)).not.toThrow();
    expect(subjectPublicKeyInfo(padded).equals(nodeSpki(der))).toBe(true);
  });
});
