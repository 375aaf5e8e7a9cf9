import { beforeAll, describe, expect, it } from "vitest";
import { readCertificateExtensions } from "../../../src/claims/certificate-extensions.js";
import { DerError } from "../../../src/claims/der-reader.js";
import { VERIGATE_CLAIMS_OID } from "../../../src/claims/verigate-claims-extension.js";
import { x509 } from "../../../src/crypto/x509.js";
import { createTestPki, der, type TestPki } from "../../support/pki.js";

describe("readCertificateExtensions", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it("lists every extension by its exact OID, the 128-bit verigate arc included", () => {
    const raw = new Uint8Array(pki.clients.teeGood.certificate.rawData);
    const extensions = readCertificateExtensions(raw);
    expect(extensions.map((e) => [e.oid, e.isCritical])).toEqual([
      ["2.5.29.19", true],
      ["2.5.29.15", true],
      ["2.5.29.37", false],
      ["2.5.29.17", false],
      ["2.5.29.14", false],
      ["2.5.29.35", false],
      [VERIGATE_CLAIMS_OID, false],
    ]);
    // @peculiar/x509 (asn1js) cannot name that OID: why verigate reads extensions itself.
    const names = pki.clients.teeGood.certificate.extensions.map((e) => e.type);
    expect(names).not.toContain(VERIGATE_CLAIMS_OID);
    expect(
      Buffer.from(extensions[6]?.value ?? [])
        .subarray(0, 1)
        .toString("hex"),
    ).toBe("0c");
  });

  it("returns nothing for a certificate without extensions", async () => {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ]);
    const bare = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "01",
      name: "CN=bare",
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    expect(readCertificateExtensions(new Uint8Array(bare.rawData))).toEqual([]);
  });

  it("refuses framing that is not DER", () => {
    const raw = new Uint8Array(pki.clients.alice.certificate.rawData);
    expect(() => readCertificateExtensions(new Uint8Array([...raw, 0]))).toThrow(DerError);
    expect(() => readCertificateExtensions(raw.subarray(0, raw.length - 1))).toThrow(DerError);
    // Extensions that are not TBSCertificate's last field.
    const tbs = der(0x30, der(0xa3, der(0x30)), der(0x02, Buffer.from([1])));
    expect(() => readCertificateExtensions(der(0x30, tbs))).toThrow(/trailing data/);
    const badCritical = der(
      0x30,
      der(
        0xa3,
        der(
          0x30,
          der(
            0x30,
            der(0x06, Buffer.from([0x55, 0x1d, 0x13])),
            der(0x01, Buffer.from([0xff, 0xff])),
            der(0x04),
          ),
        ),
      ),
    );
    expect(() => readCertificateExtensions(der(0x30, badCritical))).toThrow(/critical/);
  });
});
