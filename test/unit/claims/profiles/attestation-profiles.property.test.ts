import fc from "fast-check";
import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type {
  AttestationProfile,
  ProfileOutcome,
} from "../../../../src/claims/profiles/attestation-profile.js";
import {
  ATTESTATION_PROFILES,
  compileGenericProfile,
} from "../../../../src/claims/profiles/attestation-profiles.js";
import {
  earClaims,
  gcpConfidentialSpaceClaims,
  itaTdxClaims,
  maaSevSnpClaims,
  maaTdxClaims,
  readVectorJson,
  readVectorJwtPayload,
} from "../../../support/attestation-claims.js";

type Json = Record<string, unknown>;

const generic = compileGenericProfile(
  {
    platform: "hwmodel",
    measurement: "submods.container.image_digest",
    debug: "tdx.tdx_is_debuggable",
    tcbStatus: "attester_tcb_status",
    svn: "x-ms-sevsnpvm-guestsvn",
    nonce: "eat_nonce.0",
  },
  "issuers[0].claims",
).profile;

const PROFILES: readonly (readonly [string, AttestationProfile])[] = [
  ...Object.entries(ATTESTATION_PROFILES),
  ["generic", generic ?? (() => ({ ok: false, problem: "generic mapping did not compile" }))],
];

/** Real and realistic payloads of every profile: the seeds the mutations start from. */
const SEEDS: readonly (() => Json)[] = [
  () => maaSevSnpClaims({ nonce: "n-0123456789" }),
  () => maaTdxClaims(),
  () => ({
    "x-ms-attestation-type": "azurevm",
    "x-ms-isolation-tee": maaSevSnpClaims(),
    "x-ms-runtime": { "client-payload": { nonce: "n-0123456789" } },
  }),
  () => itaTdxClaims({ nonce: "bm9uY2U=" }),
  () => itaTdxClaims({ version: 1 }),
  () => gcpConfidentialSpaceClaims({ nonce: "n-0123456789" }),
  () => earClaims(),
  () => earClaims({ tee: "snp" }),
  () => earClaims({ tee: "tdx", nonce: "n-0123456789" }),
  () => readVectorJson("jwt/ear/ear-claims-key-attestation-ok.json"),
  () => readVectorJwtPayload("jwt/ear/trustee-cca-realm-ear-expired.jwt"),
];

/** Every path to a value inside `value` (objects and arrays), root excluded. */
function pathsOf(value: unknown, prefix: readonly string[] = []): string[][] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    [...prefix, key],
    ...pathsOf(child, [...prefix, key]),
  ]);
}

function setAt(root: Json, path: readonly string[], value: unknown): void {
  let container: Record<string, unknown> = root;
  for (const segment of path.slice(0, -1)) {
    const next = container[segment];
    if (typeof next !== "object" || next === null) return;
    container = next as Record<string, unknown>;
  }
  const last = path.at(-1);
  if (last !== undefined) container[last] = value;
}

/** A real payload with up to three of its claims (at any depth) replaced by arbitrary JSON. */
const mutatedSeed: fc.Arbitrary<unknown> = fc
  .record({
    seed: fc.nat({ max: SEEDS.length - 1 }),
    mutations: fc.array(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 })), { maxLength: 3 }),
  })
  .map(({ seed, mutations }) => {
    const payload = (SEEDS[seed] ?? (() => ({})))();
    const paths = pathsOf(payload);
    for (const [index, value] of mutations) {
      const path = paths[index % paths.length];
      if (path !== undefined) setAt(payload, path, value);
    }
    return payload;
  });

/** Claim names the profiles read, with arbitrary values: reaches deeper than random keys do. */
const CLAIM_NAMES = [
  "x-ms-attestation-type",
  "x-ms-isolation-tee",
  "x-ms-runtime",
  "x-ms-sevsnpvm-launchmeasurement",
  "nonce",
  "tdx",
  "sgx",
  "attester_type",
  "tdx_mrtd",
  "verifier_nonce",
  "hwmodel",
  "dbgstat",
  "submods",
  "eat_nonce",
  "ear_status",
  "__proto__",
  "constructor",
];
const claimsLike: fc.Arbitrary<unknown> = fc.dictionary(
  fc.oneof(fc.constantFrom(...CLAIM_NAMES), fc.string()),
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom("sevsnpvm", "tdxvm", "sgx", "azurevm", "TDX", "SGX", "GCP_INTEL_TDX"),
    fc.dictionary(
      fc.constantFrom(...CLAIM_NAMES, "cpu0", "ear.status", "val"),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  ),
  { maxKeys: 6 },
);

const anyPayload = fc.oneof(fc.jsonValue({ maxDepth: 4 }), claimsLike, mutatedSeed);

/** What every outcome promises, whatever the payload. */
function expectWellFormed(outcome: ProfileOutcome): void {
  if (!outcome.ok) {
    expect(typeof outcome.problem).toBe("string");
    expect(outcome.problem.length).toBeGreaterThan(0);
    return;
  }
  const { tee } = outcome;
  expect(Object.isFrozen(tee)).toBe(true);
  expect(Object.keys(tee).sort()).toEqual(
    ["debug", "measurement", "nonce", "platform", "svn", "tcbStatus"].sort(),
  );
  if (tee.platform !== undefined) expect(tee.platform).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
  if (tee.measurement !== undefined) expect(tee.measurement).toMatch(/^(?:[0-9a-f]{2})+$/);
  if (tee.debug !== undefined) expect(typeof tee.debug).toBe("boolean");
  if (tee.tcbStatus !== undefined) expect(tee.tcbStatus).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
  if (tee.svn !== undefined) {
    expect(Number.isSafeInteger(tee.svn)).toBe(true);
    expect(tee.svn).toBeGreaterThanOrEqual(0);
  }
  if (tee.nonce !== undefined) expect(tee.nonce).toMatch(/^[\x20-\x7e]{1,1024}$/);
}

describe("attestation profiles on arbitrary payloads", () => {
  it.each(PROFILES)("%s never throws and returns a well-formed outcome", (_name, profile) => {
    fc.assert(
      fc.property(anyPayload, (payload) => {
        let outcome: ProfileOutcome | undefined;
        expect(() => (outcome = profile(payload as JWTPayload))).not.toThrow();
        if (outcome !== undefined) expectWellFormed(outcome);
      }),
      { numRuns: 400 },
    );
  });

  it.each(PROFILES)("%s does not modify the payload", (_name, profile) => {
    fc.assert(
      fc.property(mutatedSeed, (payload) => {
        const before = JSON.stringify(payload);
        profile(payload as JWTPayload);
        expect(JSON.stringify(payload)).toBe(before);
      }),
      { numRuns: 100 },
    );
  });

  it("turns an exception inside a claim's getter into a problem, not a throw", () => {
    const hostile = Object.defineProperty({}, "x-ms-attestation-type", {
      enumerable: true,
      get: () => {
        throw new Error("boom");
      },
    });
    for (const [, profile] of PROFILES) expect(() => profile(hostile as JWTPayload)).not.toThrow();
    expect(ATTESTATION_PROFILES["azure-maa"](hostile as JWTPayload)).toStrictEqual({
      ok: false,
      problem: "the token's claims could not be read",
    });
  });
});
