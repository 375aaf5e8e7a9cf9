import { createHash, randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  NITRO_CLOCK_SKEW_MS,
  createNitroVerifier,
} from "../../../../../src/claims/evidence/nitro/nitro-verifier.js";
import type { EvidenceVerifier } from "../../../../../src/claims/evidence/evidence.js";
import {
  createNitroTestPki,
  makeNitroDocument,
  sharedNitroTestPki,
  type NitroTestPki,
} from "../../../../support/evidence/nitro-factory.js";

let pki: NitroTestPki;
let verifier: EvidenceVerifier;

beforeAll(async () => {
  pki = await sharedNitroTestPki();
  verifier = createNitroVerifier({ root: pki.rootPem });
});

describe("the test factory's documents verify against the test root", () => {
  it("with every field it was given", async () => {
    const spki = randomBytes(91);
    const nonce = randomBytes(32);
    const publicKey = randomBytes(120);
    const pcr0 = createHash("sha384").update("payroll enclave").digest();
    const timestamp = Date.now() - 1000;
    const document = await makeNitroDocument({
      pcrs: { 0: pcr0, 8: Buffer.alloc(48, 8) },
      userData: spki,
      nonce,
      publicKey,
      timestamp,
    });
    const outcome = await verifier.verify({ evidence: document, certs: [] }, Date.now());
    if (!outcome.ok) throw new Error(outcome.problem);
    const evidence = outcome.evidence;
    expect(evidence).toMatchObject({
      platform: "nitro",
      measurement: pcr0.toString("hex"),
      debug: false,
      tcbStatus: undefined,
      svn: undefined,
      reportData: spki,
      nonce,
      producedAt: timestamp,
    });
    expect(evidence.claims).toMatchObject({
      digest: "SHA384",
      timestamp,
      userData: spki.toString("hex"),
      nonce: nonce.toString("hex"),
      publicKey: publicKey.toString("hex"),
    });
    expect((evidence.claims.pcrs as Record<string, string>)["8"]).toBe("08".repeat(48));
    expect(Object.isFrozen(evidence) && Object.isFrozen(evidence.claims)).toBe(true);
  });

  it("in debug mode (PCR0, PCR1 and PCR2 all zero)", async () => {
    const outcome = await verifier.verify(
      { evidence: await makeNitroDocument({ debug: true }), certs: [] },
      Date.now(),
    );
    expect(outcome.ok && outcome.evidence.debug).toBe(true);
    expect(outcome.ok && outcome.evidence.measurement).toBe("00".repeat(48));
  });

  it("is not debug when only some of PCR0-2 are zero", async () => {
    const document = await makeNitroDocument({
      pcrs: { 0: Buffer.alloc(48), 1: Buffer.alloc(48) },
    });
    const outcome = await verifier.verify({ evidence: document, certs: [] }, Date.now());
    expect(outcome.ok && outcome.evidence.debug).toBe(false);
  });

  it("tagged with COSE tag 18", async () => {
    const document = await makeNitroDocument({ tagged: true });
    expect(document[0]).toBe(0xd2);
    expect((await verifier.verify({ evidence: document, certs: [] }, Date.now())).ok).toBe(true);
  });
});

describe("the verifier's own refusals, on test documents", () => {
  it("the built-in AWS root refuses the test root's documents", async () => {
    const outcome = await createNitroVerifier().verify(
      { evidence: await makeNitroDocument(), certs: [] },
      Date.now(),
    );
    expect(outcome).toEqual({
      ok: false,
      problem: "certificate chain: cabundle[0] is not the pinned root",
    });
  });

  it("a verifier pinned to another test root refuses them", async () => {
    const other = await createNitroTestPki();
    const outcome = await createNitroVerifier({ root: other.rootPem }).verify(
      { evidence: await makeNitroDocument(), certs: [] },
      Date.now(),
    );
    expect(outcome).toEqual({
      ok: false,
      problem: "certificate chain: cabundle[0] is not the pinned root",
    });
  });

  it("a cabundle swapped for another (test) chain", async () => {
    const other = await createNitroTestPki();
    const document = await pki.makeNitroDocument({
      editPayload: (payload) => payload.set("cabundle", [...other.cabundle]),
    });
    const outcome = await createNitroVerifier({ root: other.rootPem }).verify(
      { evidence: document, certs: [] },
      Date.now(),
    );
    expect(outcome).toEqual({
      ok: false,
      problem: "certificate chain: certificate was not issued by cabundle[3]",
    });
  });

  it("a signed protected header naming another algorithm", async () => {
    const document = await pki.makeNitroDocument({ protectedHeader: new Map([[1, -7]]) });
    expect(await verifier.verify({ evidence: document, certs: [] }, Date.now())).toEqual({
      ok: false,
      problem: "cose: protected header: alg must be ES384 (-35), got -7",
    });
  });

  it("a document from the future, beyond the allowed clock skew", async () => {
    const now = Date.now();
    const within = await makeNitroDocument({ timestamp: now + NITRO_CLOCK_SKEW_MS - 1000 });
    expect((await verifier.verify({ evidence: within, certs: [] }, now)).ok).toBe(true);
    const beyond = await makeNitroDocument({ timestamp: now + NITRO_CLOCK_SKEW_MS + 1000 });
    expect(await verifier.verify({ evidence: beyond, certs: [] }, now)).toEqual({
      ok: false,
      problem: `timestamp ${new Date(now + NITRO_CLOCK_SKEW_MS + 1000).toISOString()} is in the future`,
    });
  });

  it("an old document still verifies: freshness is the caller's policy (producedAt)", async () => {
    const timestamp = Date.now() - 30 * 86_400_000;
    const document = await makeNitroDocument({ timestamp });
    const outcome = await verifier.verify({ evidence: document, certs: [] }, Date.now());
    expect(outcome.ok && outcome.evidence.producedAt).toBe(timestamp);
  });

  it("a leaf that was not valid at the document's time", async () => {
    const timestamp = Date.parse("2030-01-01T00:00:00Z");
    const document = await makeNitroDocument({
      timestamp: Date.now(),
      leafValidity: { notBefore: new Date(timestamp), notAfter: new Date(timestamp + 3_600_000) },
    });
    expect(await verifier.verify({ evidence: document, certs: [] }, Date.now())).toEqual({
      ok: false,
      problem:
        "certificate chain: certificate: not yet valid at the document's time (valid from 2030-01-01T00:00:00.000Z)",
    });
  });
});

describe("createNitroVerifier's root option", () => {
  it.each([
    ["no certificate", "not a certificate", "nitro root: expected one PEM certificate, found 0"],
    ["two certificates", "two", "nitro root: expected one PEM certificate, found 2"],
    [
      "a broken certificate",
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      "nitro root: not a PEM certificate",
    ],
  ])("throws at construction for %s", (_name, root, message) => {
    const pem = root === "two" ? `${pki.rootPem}${pki.rootPem}` : root;
    expect(() => createNitroVerifier({ root: pem })).toThrow(message);
  });
});
