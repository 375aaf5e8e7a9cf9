import { X509Certificate, createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
} from "../../../../../src/claims/evidence/nitro/aws-nitro-root.js";
import { readCertificateVector } from "./nitro-vectors.js";

describe("the pinned AWS Nitro Enclaves Root G1", () => {
  const root = new X509Certificate(AWS_NITRO_ROOT_G1_PEM);

  it("is the vectors' root, with the fingerprint AWS's documents give", () => {
    expect(root.raw).toEqual(readCertificateVector("aws-nitro-root-g1.pem"));
    expect(createHash("sha256").update(root.raw).digest("hex")).toBe(AWS_NITRO_ROOT_G1_SHA256);
    expect(AWS_NITRO_ROOT_G1_SHA256).toBe(
      "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b",
    );
  });

  it("is the self-signed P-384 CA aws.nitro-enclaves, valid 2019 to 2049", () => {
    expect(root.subject).toBe("C=US\nO=Amazon\nOU=AWS\nCN=aws.nitro-enclaves");
    expect(root.issuer).toBe(root.subject);
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(root.validTo).toBe("Oct 28 14:28:05 2049 GMT");
  });
});
