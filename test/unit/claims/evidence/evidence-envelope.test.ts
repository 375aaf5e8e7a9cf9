import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AttestationTokenAuthority } from "../../../../src/claims/evidence/attestation-token-authority.js";
import { bindingFor, isEvidenceBound } from "../../../../src/claims/evidence/evidence-binding.js";
import {
  parseEnvelope,
  parseEvidenceHeader,
} from "../../../../src/claims/evidence/evidence-envelope.js";
import type { VerifiedEvidence } from "../../../../src/claims/evidence/evidence.js";

const EVIDENCE = Buffer.from("report").toString("base64");

describe("the evidence envelope", () => {
  it("reads platform, evidence, certs and nonce", () => {
    const envelope = parseEnvelope({
      platform: "sev-snp",
      evidence: EVIDENCE,
      certs: [EVIDENCE],
      nonce: "n",
    });
    expect(envelope).toEqual({
      platform: "sev-snp",
      evidence: Buffer.from("report"),
      certs: [Buffer.from("report")],
      nonce: "n",
    });
  });

  it.each([
    [null, "the envelope is not a JSON object"],
    [{ platform: "sgx", evidence: EVIDENCE }, "platform must be sev-snp, tdx or nitro"],
    [{ platform: "tdx", evidence: "not base64!" }, "evidence is not base64"],
    [{ platform: "tdx", evidence: "" }, "evidence is empty or larger than 65536 bytes"],
    [
      { platform: "tdx", evidence: Buffer.alloc(70_000).toString("base64") },
      "evidence is empty or larger than 65536 bytes",
    ],
    [{ platform: "tdx", evidence: EVIDENCE, certs: "x" }, "certs must be a list of at most 4"],
    [{ platform: "tdx", evidence: EVIDENCE, certs: [1] }, "certs[0] is not base64"],
    [{ platform: "tdx", evidence: EVIDENCE, nonce: 5 }, "nonce must be a string"],
    [{ platform: "tdx", evidence: EVIDENCE, extra: 1 }, 'unknown envelope key "extra"'],
  ])("refuses %j: %s", (value, problem) => {
    expect(parseEnvelope(value)).toBe(problem);
  });

  it("reads the x-tee-evidence header as base64url JSON, and refuses anything else", () => {
    const header = Buffer.from(JSON.stringify({ platform: "nitro", evidence: EVIDENCE })).toString(
      "base64url",
    );
    expect(parseEvidenceHeader(header)).toMatchObject({ platform: "nitro" });
    expect(parseEvidenceHeader("{not base64url}")).toBe("x-tee-evidence is not base64url");
    expect(parseEvidenceHeader(Buffer.from("nope").toString("base64url"))).toBe(
      "x-tee-evidence does not hold JSON",
    );
  });
});

describe("verigate's evidence binding", () => {
  const spki = randomBytes(91);
  const nonce = randomBytes(32).toString("base64url");
  const evidence = (reportData: Buffer): VerifiedEvidence => ({
    platform: "sev-snp",
    measurement: "aa",
    debug: false,
    tcbStatus: undefined,
    svn: undefined,
    reportData,
    nonce: undefined,
    producedAt: undefined,
    claims: {},
  });

  it("is SHA-512(nonce bytes ‖ SHA-256(SPKI))", () => {
    const expected = createHash("sha512")
      .update(Buffer.from(nonce, "base64url"))
      .update(createHash("sha256").update(spki).digest())
      .digest();
    expect(bindingFor(nonce, spki)).toEqual(expected);
    expect(isEvidenceBound(evidence(expected), nonce, spki)).toBe(true);
  });

  it("fails for another key, another nonce, a nonce not of verigate's shape, or other report data", () => {
    const bound = bindingFor(nonce, spki) as Buffer;
    expect(isEvidenceBound(evidence(bound), nonce, randomBytes(91))).toBe(false);
    expect(isEvidenceBound(evidence(bound), randomBytes(32).toString("base64url"), spki)).toBe(
      false,
    );
    expect(bindingFor("short", spki)).toBeUndefined();
    expect(isEvidenceBound(evidence(Buffer.alloc(64)), nonce, spki)).toBe(false);
  });
});

describe("verigate's own attestation tokens", () => {
  const fingerprint = "ab".repeat(32);
  const tee = {
    platform: "tdx",
    measurement: "cd".repeat(48),
    debug: false,
    issuer: "tdx-hw",
    age: 2_000,
    boundToClientCert: true,
  };

  it("round-trip the TEE claims, bound to the certificate, with the evidence's age", async () => {
    const authority = new AttestationTokenAuthority();
    const now = Date.now();
    const token = await authority.issue(tee, now - 2_000, fingerprint, now);
    expect(await authority.verify(token, fingerprint, now + 1_000)).toEqual({ ...tee, age: 3_000 });
  });

  it("are refused on another certificate, after 5 minutes, and from another verigate", async () => {
    const authority = new AttestationTokenAuthority();
    const now = Date.now();
    const token = await authority.issue(tee, now, fingerprint, now);
    expect(await authority.verify(token, "ef".repeat(32), now)).toMatchObject({
      reason: "token-not-bound",
    });
    expect(await authority.verify(token, undefined, now)).toMatchObject({
      reason: "token-not-bound",
    });
    expect(await authority.verify(token, fingerprint, now + 301_000)).toMatchObject({
      reason: "token-expired",
    });
    expect(await new AttestationTokenAuthority().verify(token, fingerprint, now)).toMatchObject({
      reason: "token-invalid",
    });
  });
});

describe("the memory nonce store", () => {
  it("expires nonces by its own clock, redeems once per token, and answers the issue time", async () => {
    const { createMemoryNonceStore } = await import("../../../../src/claims/nonces/nonce-store.js");
    let now = 1_000_000;
    const store = createMemoryNonceStore({ ttlMs: 120_000, now: () => now });
    const { nonce, expiresIn } = await store.issue();
    expect(expiresIn).toBe(120);
    now += 60_000;
    expect(await store.redeem(nonce, "token-a")).toEqual({ issuedAt: 1_000_000 });
    expect(await store.redeem(nonce, "token-a")).toEqual({ issuedAt: 1_000_000 });
    expect(await store.redeem(nonce, "token-b")).toBeUndefined();
    const late = await store.issue();
    now += 120_001;
    expect(await store.redeem(late.nonce, "token-c")).toBeUndefined();
    expect(await store.redeem("never-issued", "token-d")).toBeUndefined();
  });
});
