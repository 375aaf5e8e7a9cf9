import { describe, expect, it } from "vitest";
import {
  identityFromCertificate,
  parseCertificateIdentity,
} from "../../../src/claims/certificate-identity.js";
import { createTestPki } from "../../support/pki.js";

const pki = await createTestPki();
const derOf = (name: "alice" | "bob" | "noEku"): Buffer =>
  Buffer.from(pki.clients[name].certificate.rawData);

describe("identityFromCertificate, cached by fingerprint", () => {
  it("gives a reconnecting client the same identity as a full parse", () => {
    const der = derOf("alice");
    const first = identityFromCertificate(der, { allowMissingEku: false });
    const again = identityFromCertificate(der, { allowMissingEku: false });
    expect(again).toEqual(parseCertificateIdentity(der, { allowMissingEku: false }));
    expect(again).toBe(first);
    expect(first).toMatchObject({ ok: true, identity: { commonName: "alice" } });
  });

  it("keeps certificates apart, and answers per option (the EKU rule is part of the key)", () => {
    expect(identityFromCertificate(derOf("bob"), { allowMissingEku: false })).toMatchObject({
      ok: true,
      identity: { commonName: "bob" },
    });
    const noEku = derOf("noEku");
    expect(identityFromCertificate(noEku, { allowMissingEku: false })).toMatchObject({
      ok: false,
      reason: "client-certificate-wrong-purpose",
    });
    expect(identityFromCertificate(noEku, { allowMissingEku: true })).toMatchObject({ ok: true });
    expect(identityFromCertificate(noEku, { allowMissingEku: false })).toMatchObject({ ok: false });
  });
});
