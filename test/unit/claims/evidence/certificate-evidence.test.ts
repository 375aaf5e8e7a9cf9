import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Tag } from "../../../support/cbor-encode.js";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { evidenceFromCertificate } from "../../../../src/claims/evidence/certificate-evidence.js";
import type { EvidenceVerifier } from "../../../../src/claims/evidence/evidence.js";
import type { EvidenceIssuer } from "../../../../src/claims/evidence/evidence-issuer.js";
import {
  DICE_CMW_OID,
  DSTACK_ATTESTATION_OID,
  DSTACK_QUOTE_OID,
  GRAMINE_SGX_QUOTE_OID,
} from "../../../../src/claims/evidence/in-certificate/evidence-locations.js";
import { decodeNitroDocument } from "../../../../src/claims/evidence/nitro/nitro-document.js";
import { createNitroVerifier } from "../../../../src/claims/evidence/nitro/nitro-verifier.js";
import { createSevSnpVerifier } from "../../../../src/claims/evidence/sev-snp/sev-snp-verifier.js";
import { createTdxVerifier } from "../../../../src/claims/evidence/tdx/tdx-verifier.js";
import {
  type AttestedKey,
  cbor,
  derOctetString,
  issueAttestedCertificate,
  makeAttestedKey,
} from "../../../support/evidence/attested-certificate-factory.js";
import { sharedNitroTestPki } from "../../../support/evidence/nitro-factory.js";
import { getSnpTestChain, makeSnpReport } from "../../../support/evidence/sev-snp-factory.js";
import { DEFAULT_MRTD, makeTdxQuote, tdxTestPki } from "../../../support/evidence/tdx-factory.js";

/** `shared/vectors/nitro/evervault/test-data/beta/`, beside the repository, read in place. */
const EVERVAULT_BETA = new URL(
  "../../../../../shared/vectors/nitro/evervault/test-data/beta/",
  import.meta.url,
);

function issuer(name: string, verifier: EvidenceVerifier): EvidenceIssuer {
  return {
    name,
    platform: verifier.platform,
    verifier,
    bindToClientCert: true,
    requireNonce: false,
    acceptSelfSignedCertificates: false,
    minimumTcb: undefined,
  };
}

const sha512 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash("sha512");
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const sha256 = (bytes: Uint8Array): Buffer => createHash("sha256").update(bytes).digest();

/** A CMW record `[media type, value]` in CBOR. */
const cmwRecord = (value: Uint8Array): Buffer =>
  Buffer.from(cbor.encode(["application/octet-stream", Buffer.from(value)]));

const awsNitro = issuer("aws-nitro", createNitroVerifier());

describe("evidenceFromCertificate: Evervault certificates (Nitro document in a SAN)", () => {
  it.each([
    ["non-debug-cert-containing-attestation-document-18-1-23.pem", false],
    ["non-debug-cert-containing-attestation-document-18-1-23-der.crt", false],
    ["debug-mode-cert-containing-attestation-doc-18-1-23.pem", true],
  ])("verifies and binds %s", async (file, debug) => {
    const certificate = new X509Certificate(readFileSync(new URL(file, EVERVAULT_BETA)));
    const documentHex = (certificate.subjectAltName ?? "")
      .split(", ")
      .map((name) => name.replace(/^DNS:/, "").split(".")[0] ?? "")
      .find((label) => label.length > 200);
    const decoded = decodeNitroDocument(Buffer.from(documentHex ?? "", "hex"));
    if (!decoded.ok) throw new Error(decoded.problem);
    const now = decoded.document.timestamp;

    const result = await evidenceFromCertificate(certificate.raw, [awsNitro], now);

    expect(result.notes).toEqual([]);
    const notBefore = Date.parse(certificate.validFrom);
    expect(result.tee).toMatchObject({
      platform: "nitro",
      measurement: decoded.document.pcrs.get(0)?.toString("hex"),
      debug,
      issuer: "aws-nitro",
      age: now - Math.min(notBefore, now),
      boundToClientCert: true,
    });
    expect(result.tee?.claims?.["carriedIn"]).toBe("nitro-san");
  });
});

describe("evidenceFromCertificate: Nitro documents from the test PKI", () => {
  let testNitro: EvidenceIssuer;
  let key: AttestedKey;
  let documentHex: string;
  beforeAll(async () => {
    const pki = await sharedNitroTestPki();
    testNitro = issuer("test-nitro", createNitroVerifier({ root: pki.rootPem }));
    key = await makeAttestedKey();
    documentHex = (await pki.makeNitroDocument({ userData: key.spki })).toString("hex");
  });

  it("accepts a document whose user_data is the certificate's SPKI", async () => {
    const der = await issueAttestedCertificate({ key, dnsNames: [`${documentHex}.enclave.test`] });
    const result = await evidenceFromCertificate(der, [testNitro], Date.now());
    expect(result.notes).toEqual([]);
    expect(result.tee).toMatchObject({ platform: "nitro", boundToClientCert: true, debug: false });
  });

  it("refuses the same document in a certificate for another key", async () => {
    const der = await issueAttestedCertificate({
      key: await makeAttestedKey(),
      dnsNames: [`${documentHex}.enclave.test`],
    });
    const result = await evidenceFromCertificate(der, [testNitro], Date.now());
    expect(result.tee).toBeUndefined();
    expect(result.notes).toEqual([
      "nitro-san (nitro): test-nitro: evidence does not bind this certificate's public key",
    ]);
  });

  it("refuses a document the issuer cannot verify (AWS root, test document)", async () => {
    const der = await issueAttestedCertificate({ key, dnsNames: [`${documentHex}.enclave.test`] });
    const result = await evidenceFromCertificate(der, [awsNitro], Date.now());
    expect(result.tee).toBeUndefined();
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toMatch(/^nitro-san \(nitro\): aws-nitro: /);
  });
});

describe("evidenceFromCertificate: SEV-SNP and TDX in the TCG DICE CMW extension", () => {
  let snp: EvidenceIssuer;
  let tdx: EvidenceIssuer;
  let key: AttestedKey;
  beforeAll(async () => {
    snp = issuer("test-snp", createSevSnpVerifier({ roots: [(await getSnpTestChain()).arkPem] }));
    tdx = issuer("test-tdx", createTdxVerifier({ root: (await tdxTestPki()).rootPem }));
    key = await makeAttestedKey();
  });

  async function snpValue(reportData: Buffer, tamper = false): Promise<Buffer> {
    const { evidence, certs } = await makeSnpReport({ reportData, measurement: "ab".repeat(48) });
    const report = Buffer.from(evidence);
    if (tamper) report[0x90] = (report[0x90] ?? 0) ^ 1;
    return Buffer.concat([report, ...certs]);
  }

  async function certificateWith(oid: string, value: Uint8Array, forKey = key): Promise<Buffer> {
    return issueAttestedCertificate({ key: forKey, extensions: [{ oid, value }] });
  }

  it("accepts an SEV-SNP report whose report data is SHA-512(SPKI)", async () => {
    const der = await certificateWith(DICE_CMW_OID, cmwRecord(await snpValue(sha512(key.spki))));
    const result = await evidenceFromCertificate(der, [snp, tdx], Date.now());
    expect(result.notes).toEqual([]);
    expect(result.tee).toMatchObject({
      platform: "sev-snp",
      measurement: "ab".repeat(48),
      debug: false,
      issuer: "test-snp",
      boundToClientCert: true,
    });
    expect(result.tee?.age).toBeGreaterThanOrEqual(60_000);
    expect(result.tee?.claims?.["carriedIn"]).toBe("dice-cmw");
  });

  it("accepts the CMW in a DER OCTET STRING and as JSON in a UTF8String", async () => {
    const value = await snpValue(sha512(key.spki));
    const json = Buffer.from(
      JSON.stringify(["application/octet-stream", value.toString("base64url"), 4]),
    );
    for (const extension of [
      derOctetString(cmwRecord(value)),
      Buffer.concat([Buffer.from([0x0c, 0x82, json.length >> 8, json.length & 0xff]), json]),
    ]) {
      const result = await evidenceFromCertificate(
        await certificateWith(DICE_CMW_OID, extension),
        [snp],
        Date.now(),
      );
      expect(result).toMatchObject({ notes: [], tee: { platform: "sev-snp" } });
    }
  });

  it("accepts a TDX quote whose report data is SHA-512(SPKI)", async () => {
    const quote = await makeTdxQuote({ reportData: sha512(key.spki), debug: true });
    const der = await certificateWith(DICE_CMW_OID, cmwRecord(quote));
    const result = await evidenceFromCertificate(der, [snp, tdx], Date.now());
    expect(result.notes).toEqual([]);
    expect(result.tee).toMatchObject({
      platform: "tdx",
      measurement: DEFAULT_MRTD,
      debug: true,
      tcbStatus: "unknown",
      boundToClientCert: true,
    });
  });

  it("accepts Gramine's tagged evidence: tag 60000 [quote, claims] with pubkey-hash", async () => {
    const claims = Buffer.from(
      cbor.encode(new Map([["pubkey-hash", Buffer.from(cbor.encode([1, sha256(key.spki)]))]])),
    );
    const quote = await makeTdxQuote({ reportData: sha256(claims) });
    const tagged = Buffer.from(cbor.encode(new Tag([quote, claims], 60000)));
    const result = await evidenceFromCertificate(
      await certificateWith(DICE_CMW_OID, tagged),
      [tdx],
      Date.now(),
    );
    expect(result).toMatchObject({ notes: [], tee: { platform: "tdx", boundToClientCert: true } });

    const stranger = await makeAttestedKey();
    const refused = await evidenceFromCertificate(
      await certificateWith(DICE_CMW_OID, tagged, stranger),
      [tdx],
      Date.now(),
    );
    expect(refused.tee).toBeUndefined();
    expect(refused.notes).toEqual([
      "dice-cmw (tdx): test-tdx: evidence does not bind this certificate's public key",
    ]);
  });

  it("accepts a dstack certificate: report data SHA-512('ratls-cert:' || SPKI)", async () => {
    const quote = await makeTdxQuote({
      reportData: sha512(Buffer.from("ratls-cert:"), key.spki),
    });
    const result = await evidenceFromCertificate(
      await certificateWith(DSTACK_QUOTE_OID, derOctetString(quote)),
      [tdx],
      Date.now(),
    );
    expect(result).toMatchObject({ notes: [], tee: { platform: "tdx" } });
    expect(result.tee?.claims?.["carriedIn"]).toBe("dstack");
  });

  it.each([
    ["SEV-SNP", "sev-snp"],
    ["TDX", "tdx"],
  ] as const)("refuses %s evidence that binds another key", async (_name, platform) => {
    const other = sha512((await makeAttestedKey()).spki);
    const value =
      platform === "sev-snp" ? await snpValue(other) : await makeTdxQuote({ reportData: other });
    const result = await evidenceFromCertificate(
      await certificateWith(DICE_CMW_OID, cmwRecord(value)),
      [snp, tdx],
      Date.now(),
    );
    expect(result.tee).toBeUndefined();
    expect(result.notes).toEqual([
      `dice-cmw (${platform}): test-${platform === "sev-snp" ? "snp" : "tdx"}: evidence does not bind this certificate's public key`,
    ]);
  });

  it("refuses a tampered SEV-SNP report", async () => {
    const value = await snpValue(sha512(key.spki), true);
    const result = await evidenceFromCertificate(
      await certificateWith(DICE_CMW_OID, cmwRecord(value)),
      [snp],
      Date.now(),
    );
    expect(result.tee).toBeUndefined();
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toMatch(/^dice-cmw \(sev-snp\): test-snp: /);
  });

  it("refuses a tampered TDX quote", async () => {
    const quote = Buffer.from(await makeTdxQuote({ reportData: sha512(key.spki) }));
    quote[48 + 136] = (quote[48 + 136] ?? 0) ^ 1; // inside MRTD
    const result = await evidenceFromCertificate(
      await certificateWith(DICE_CMW_OID, cmwRecord(quote)),
      [tdx],
      Date.now(),
    );
    expect(result.tee).toBeUndefined();
    expect(result.notes[0]).toMatch(/^dice-cmw \(tdx\): test-tdx: /);
  });

  it("notes evidence for a platform with no configured issuer", async () => {
    const der = await certificateWith(DICE_CMW_OID, cmwRecord(await snpValue(sha512(key.spki))));
    const result = await evidenceFromCertificate(der, [tdx, awsNitro], Date.now());
    expect(result).toEqual({
      notes: ["dice-cmw (sev-snp): no evidence issuer is configured for sev-snp"],
    });
  });

  it("recognises SGX evidence and never accepts it", async () => {
    const sgxQuote = Buffer.alloc(1024);
    sgxQuote.writeUInt16LE(3, 0);
    sgxQuote.writeUInt16LE(2, 2);
    const der = await issueAttestedCertificate({
      key,
      extensions: [
        { oid: GRAMINE_SGX_QUOTE_OID, value: sgxQuote },
        {
          oid: DICE_CMW_OID,
          value: Buffer.from(cbor.encode(new Tag([sgxQuote, Buffer.from([0xa0])], 60000))),
        },
      ],
    });
    const result = await evidenceFromCertificate(der, [snp, tdx], Date.now());
    expect(result).toEqual({
      notes: ["dice-cmw: SGX evidence is not supported", "gramine: SGX evidence is not supported"],
    });
  });

  it("notes dstack's versioned attestation envelope as not supported", async () => {
    const der = await certificateWith(DSTACK_ATTESTATION_OID, Buffer.from([1, 2, 3]));
    expect(await evidenceFromCertificate(der, [tdx], Date.now())).toEqual({
      notes: ["dstack: the versioned attestation extension is not supported"],
    });
  });

  it("gives no claims and no notes for a certificate without evidence", async () => {
    const der = await issueAttestedCertificate({ key, dnsNames: ["client.example"] });
    expect(await evidenceFromCertificate(der, [snp, tdx, awsNitro], Date.now())).toEqual({
      notes: [],
    });
  });

  it("never throws for arbitrary bytes in the evidence extensions or a SAN", async () => {
    const oids = [DICE_CMW_OID, DSTACK_QUOTE_OID, DSTACK_ATTESTATION_OID, GRAMINE_SGX_QUOTE_OID];
    const cmwLike = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.uint8Array({ maxLength: 2048 }).map((bytes) => cbor.encode(["t", Buffer.from(bytes)])),
      fc.uint8Array({ maxLength: 2048 }).map((bytes) => derOctetString(bytes)),
      fc
        .tuple(fc.uint8Array({ maxLength: 1500 }), fc.uint8Array({ maxLength: 64 }))
        .map(([a, b]) => cbor.encode(new Tag([Buffer.from(a), Buffer.from(b)], 60000))),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...oids),
        cmwLike,
        fc.option(fc.stringMatching(/^[0-9a-f]{200,600}$/), { nil: undefined }),
        async (oid, value, label) => {
          const der = await issueAttestedCertificate({
            key,
            extensions: [{ oid, value }],
            ...(label === undefined ? {} : { dnsNames: [`${label}.example`] }),
          });
          const result = await evidenceFromCertificate(der, [snp, tdx, awsNitro], Date.now());
          expect(result.tee).toBeUndefined();
          expect(Array.isArray(result.notes)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("never throws for arbitrary certificate bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const result = await evidenceFromCertificate(Buffer.from(bytes), [snp, tdx], Date.now());
        expect(result.tee).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});
