import { X509Certificate, createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type {
  EvidenceOutcome,
  VerifiedEvidence,
} from "../../../../../src/claims/evidence/evidence.js";
import { findNitroDocumentInCertificate } from "../../../../../src/claims/evidence/nitro/nitro-document-in-certificate.js";
import { createNitroVerifier } from "../../../../../src/claims/evidence/nitro/nitro-verifier.js";
import {
  CERT_CONTAINING,
  CERT_CONTAINING_TIMESTAMPS,
  NITRO_VECTORS_URL,
  evervaultSpecs,
  readBase64Vector,
  readCertificateVector,
  realNitroDocuments,
} from "./nitro-vectors.js";

const verifier = createNitroVerifier();

function verified(outcome: EvidenceOutcome): VerifiedEvidence {
  if (!outcome.ok) throw new Error(`refused: ${outcome.problem}`);
  return outcome.evidence;
}

/** A certificate's DER SubjectPublicKeyInfo. */
function spkiOf(certificate: Buffer): Buffer {
  return new X509Certificate(certificate).publicKey.export({ type: "spki", format: "der" });
}

describe("the vectors", () => {
  it("are read in place from shared/vectors/nitro, unchanged", () => {
    const directory = fileURLToPath(NITRO_VECTORS_URL);
    expect(directory.endsWith("/shared/vectors/nitro/")).toBe(true);
    const sums = readFileSync(new URL("../SHA256SUMS", NITRO_VECTORS_URL), "utf8");
    const nitroLines = sums.split("\n").filter((line) => line.includes("nitro/"));
    expect(nitroLines.length).toBeGreaterThanOrEqual(18);
    for (const line of nitroLines) {
      const [sum, rawPath] = line.trim().split(/\s+\*?/);
      const path = (rawPath ?? "").replace(/^(\.\/)?nitro\//, "");
      const file = new URL(path, NITRO_VECTORS_URL);
      expect(existsSync(file), path).toBe(true);
      expect(createHash("sha256").update(readFileSync(file)).digest("hex"), path).toBe(sum);
    }
  });
});

describe("real AWS Nitro documents verify against the pinned AWS root", () => {
  it.each(realNitroDocuments())("$name", async (document) => {
    const evidence = verified(
      await verifier.verify({ evidence: document.bytes, certs: [] }, document.now),
    );
    const pcrs = evidence.claims.pcrs as Record<string, string>;
    expect(evidence.platform).toBe("nitro");
    expect(evidence.debug).toBe(document.debug);
    expect(evidence.producedAt).toBe(document.timestamp);
    expect(evidence.claims.timestamp).toBe(document.timestamp);
    expect(evidence.claims.digest).toBe("SHA384");
    expect(evidence.measurement).toBe(pcrs["0"]);
    expect(evidence.measurement).toMatch(/^[0-9a-f]{96}$/);
    expect(evidence.tcbStatus).toBeUndefined();
    expect(evidence.svn).toBeUndefined();
    expect(evidence.claims.userData).toBe(evidence.reportData.toString("hex"));
    if (document.boundCertificate !== undefined) {
      expect(evidence.reportData).toEqual(spkiOf(document.boundCertificate));
    }
    expect(JSON.parse(JSON.stringify(evidence.claims))).toEqual(evidence.claims);
  });

  it("reads blocky-nitrite's document field by field", async () => {
    const [blocky] = realNitroDocuments();
    if (blocky === undefined) throw new Error("no vector");
    const evidence = verified(
      await verifier.verify({ evidence: blocky.bytes, certs: [] }, blocky.now),
    );
    const ones = "01".repeat(1024);
    const { pcrs, ...rest } = evidence.claims as { pcrs: Record<string, string> };
    expect(rest).toEqual({
      moduleId: "i-0a22e5c5f24d22174-enc0191cceb4289903f",
      digest: "SHA384",
      timestamp: 1725719859545,
      // The NSM took 1024 bytes in each: twice what attestation_process.md allows.
      publicKey: ones,
      userData: ones,
      nonce: ones,
    });
    expect(pcrs["0"]?.slice(0, 20)).toBe("e72a46ca80a260fb044a");
    expect(pcrs["1"]?.slice(0, 20)).toBe("0343b056cd8485ca7890");
    expect(pcrs["2"]?.slice(0, 20)).toBe("d5dcbdea0aa39c802f9d");
    expect(pcrs["15"]).toBe("00".repeat(48));
    expect(Object.keys(evidence.claims.pcrs as object)).toHaveLength(16);
    expect(evidence.nonce).toEqual(Buffer.alloc(1024, 1));
    expect(evidence.reportData).toEqual(Buffer.alloc(1024, 1));
  });

  it("tells absent fields from present ones (evervault's documents)", async () => {
    const [, , valid, debug] = realNitroDocuments();
    if (valid === undefined || debug === undefined) throw new Error("no vector");
    const validEvidence = verified(
      await verifier.verify({ evidence: valid.bytes, certs: [] }, valid.now),
    );
    // public_key and user_data are null: absent.
    expect(validEvidence.claims).not.toHaveProperty("publicKey");
    expect(validEvidence.claims.userData).toBe("");
    expect(validEvidence.reportData).toEqual(Buffer.alloc(0));
    expect(validEvidence.nonce).toHaveLength(256);

    const debugEvidence = verified(
      await verifier.verify({ evidence: debug.bytes, certs: [] }, debug.now),
    );
    expect(debugEvidence.claims.publicKey).toBe(Buffer.from("my super secret key").toString("hex"));
    expect(debugEvidence.reportData.toString()).toBe("hello, world!");
    expect(debugEvidence.nonce).toBeUndefined();
    expect(debugEvidence.claims).not.toHaveProperty("nonce");
  });

  it.each(Object.values(CERT_CONTAINING))(
    "%s: the document in the SAN verifies and is bound to the certificate's key",
    async (path) => {
      const certificate = readCertificateVector(path);
      const found = findNitroDocumentInCertificate(certificate);
      if (!found.ok) throw new Error(found.problem);
      const timestamp = CERT_CONTAINING_TIMESTAMPS[path] ?? 0;
      const evidence = verified(
        await verifier.verify({ evidence: found.document, certs: [] }, timestamp + 60_000),
      );
      expect(evidence.producedAt).toBe(timestamp);
      expect(evidence.reportData).toEqual(spkiOf(certificate));
      expect(evidence.debug).toBe(path === CERT_CONTAINING.debugPem);
    },
  );

  it.each(evervaultSpecs())("PCRs as evervault's test-spec for $file says", async (spec) => {
    const bytes = spec.file.endsWith("base64")
      ? readBase64Vector(`evervault/${spec.file}`)
      : (() => {
          const found = findNitroDocumentInCertificate(
            readCertificateVector(`evervault/${spec.file}`),
          );
          if (!found.ok) throw new Error(found.problem);
          return found.document;
        })();
    const timestamp = CERT_CONTAINING_TIMESTAMPS[`evervault/${spec.file}`] ?? 1695049410860;
    const evidence = verified(
      await verifier.verify({ evidence: bytes, certs: [] }, timestamp + 60_000),
    );
    const pcrs = evidence.claims.pcrs as Record<string, string>;
    const matches = Object.entries(spec.pcrs).every(
      ([name, expected]) => pcrs[name.replace(/^pcr/, "")] === expected,
    );
    expect(matches).toBe(spec.shouldPcrsMatch);
  });
});

describe("documents not from AWS are refused", () => {
  it("blocky-nitrite's self-signed document (a non-AWS signer with no cabundle)", async () => {
    const bytes = readBase64Vector("blocky-nitrite/selfsigned_attestation.b64");
    // It fails on its envelope before its chain is looked at: the unprotected header is
    // null and cabundle is null, neither of which the NSM writes.
    expect(
      await verifier.verify({ evidence: bytes, certs: [] }, Date.parse("2024-04-17T18:51:46Z")),
    ).toEqual({
      ok: false,
      problem: "cose: unprotected header is not a map",
    });
  });
});
