import { createHash, webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DICE_CMW_OID } from "../../src/claims/evidence/in-certificate/evidence-locations.js";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import { cbor } from "../support/cbor-encode.js";
import {
  issueAttestedCertificate,
  makeAttestedKey,
} from "../support/evidence/attested-certificate-factory.js";
import { getSnpTestChain, makeSnpReport } from "../support/evidence/sev-snp-factory.js";
import { expectDenied, sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";

const MEASUREMENT = "5e".repeat(48);

/**
 * Attested TLS: the client's certificate, issued by a CA verigate trusts, carries
 * SEV-SNP evidence (a TCG DICE conceptual-message-wrapper extension) whose report
 * data binds the certificate's own key. Only evidence that verifies and binds it
 * becomes tee.* claims.
 */
describe("TEE evidence inside a client certificate", () => {
  let h: GatewayHarness;

  /** A client certificate whose key the SNP report binds (report data = SHA-512(SPKI)), or another key's. */
  async function attestedClient(
    options: { debug?: boolean; bindOtherKey?: boolean } = {},
  ): Promise<IssuedCertificate> {
    const algorithm = { name: "ECDSA", namedCurve: "P-256" };
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
    const other = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
    const bound = options.bindOtherKey === true ? other : keys;
    const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", bound.publicKey));
    const reportData = createHash("sha512").update(spki).digest();
    const { evidence, certs } = await makeSnpReport({
      reportData,
      measurement: MEASUREMENT,
      debug: options.debug === true,
    });
    const cmw = cbor.encode([
      "application/octet-stream",
      Buffer.concat([Buffer.from(evidence), ...certs]),
    ]);
    return h.pki.ca.issue({
      commonName: "payroll-vm",
      uris: ["spiffe://corp.test/workload/payroll"],
      keys,
      rawExtensions: [{ oid: DICE_CMW_OID, value: cmw }],
    });
  }

  beforeAll(async () => {
    h = await startGateway({
      files: { "snp-test-ark.pem": (await getSnpTestChain()).arkPem },
      extra: `issuers:
  - name: snp-hw
    kind: attestation
    evidence: sev-snp
    roots: [snp-test-ark.pem]
`,
      routes: `routes:
  - name: payroll
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.platform: sev-snp
          tee.measurement: ${MEASUREMENT}
          tee.debug: false
          tee.boundToClientCert: true
          tee.age: { lt: 1h }
`,
    });
  });
  afterAll(() => h.close());

  it("admits a workload whose certificate carries genuine evidence binding its key", async () => {
    const { res, line } = await sendToGateway(h, { as: await attestedClient() });
    expect(res.status).toBe(200);
    expect(line).toMatchObject({
      decision: "allow",
      teePlatform: "sev-snp",
      teeMeasurement: MEASUREMENT,
      teeIssuer: "snp-hw",
    });
  });

  it("refuses a debug guest's certificate: verified, but the policy sees debug", async () => {
    await expectDenied(h, { as: await attestedClient({ debug: true }) }, 403, [
      "no-matching-rule",
      "attestation-debug-enabled",
    ]);
  });

  it("ignores evidence that binds another key, and says so in the audit line", async () => {
    const line = await expectDenied(h, { as: await attestedClient({ bindOtherKey: true }) }, 403, [
      "no-matching-rule",
      "attestation-missing",
    ]);
    expect(String(line.notes)).toContain("does not bind this certificate's public key");
  });

  it("gives a plain certificate no TEE claims and no notes", async () => {
    const line = await expectDenied(h, { as: h.pki.clients.alice }, 403, [
      "no-matching-rule",
      "attestation-missing",
    ]);
    expect(line.notes).toBeUndefined();
  });
});

describe("a self-signed certificate carrying evidence (RA-TLS without a CA)", () => {
  let h: GatewayHarness;

  /** A self-signed certificate whose SNP evidence binds its key (or another key's). */
  async function selfSigned(
    options: { bindOtherKey?: boolean; evidence?: boolean } = {},
  ): Promise<{ chainPem: string; keyPem: string }> {
    const key = await makeAttestedKey();
    const other = await makeAttestedKey();
    const reportData = createHash("sha512")
      .update((options.bindOtherKey === true ? other : key).spki)
      .digest();
    const { evidence, certs } = await makeSnpReport({ reportData, measurement: MEASUREMENT });
    const cmw = cbor.encode([
      "application/octet-stream",
      Buffer.concat([Buffer.from(evidence), ...certs]),
    ]);
    const der = await issueAttestedCertificate({
      key,
      extensions: options.evidence === false ? [] : [{ oid: DICE_CMW_OID, value: cmw }],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key.keys.privateKey));
    const pem = (label: string, bytes: Buffer): string =>
      `-----BEGIN ${label}-----\n${bytes.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END ${label}-----\n`;
    return { chainPem: pem("CERTIFICATE", der), keyPem: pem("PRIVATE KEY", pkcs8) };
  }

  async function gateway(acceptSelfSigned: boolean): Promise<GatewayHarness> {
    return startGateway({
      files: { "snp-test-ark.pem": (await getSnpTestChain()).arkPem },
      extra: `issuers:
  - name: snp-hw
    kind: attestation
    evidence: sev-snp
    roots: [snp-test-ark.pem]
    acceptSelfSignedCertificates: ${acceptSelfSigned}
`,
      routes: `routes:
  - name: payroll
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.source: attestation
          tee.platform: sev-snp
          tee.measurement: ${MEASUREMENT}
          tee.boundToClientCert: true
`,
    });
  }

  beforeAll(async () => {
    h = await gateway(true);
  });
  afterAll(() => h.close());

  it("is an identity (source attestation) when the issuer accepts self-signed certificates and the evidence binds its key", async () => {
    const { res, line } = await sendToGateway(h, { as: await selfSigned() });
    expect(res.status).toBe(200);
    expect(line).toMatchObject({
      identitySource: "attestation",
      teeIssuer: "snp-hw",
      teeMeasurement: MEASUREMENT,
    });
  });

  it("is refused (401) without evidence, or with evidence that binds another key", async () => {
    const none = await expectDenied(h, { as: await selfSigned({ evidence: false }) }, 401, [
      "client-certificate-untrusted",
    ]);
    expect(String(none.detail)).toContain(
      "self-signed certificate without bound, verified evidence",
    );
    const other = await expectDenied(h, { as: await selfSigned({ bindOtherKey: true }) }, 401, [
      "client-certificate-untrusted",
    ]);
    expect(String(other.notes)).toContain("does not bind this certificate's public key");
  });

  it("is refused (401) where no evidence issuer accepts self-signed certificates", async () => {
    const strict = await gateway(false);
    try {
      // With tls.crl set, OpenSSL's first complaint about a self-signed leaf is the missing CRL.
      const line = await expectDenied(strict, { as: await selfSigned() }, 401, [
        "client-certificate-invalid",
      ]);
      expect(line.detail).toBe("UNABLE_TO_GET_CRL");
    } finally {
      await strict.close();
    }
  });
});
