import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type { ProfiledTee } from "../../../../src/claims/profiles/attestation-profile.js";
import {
  ATTESTATION_PROFILES,
  isVendorProfileName,
} from "../../../../src/claims/profiles/attestation-profiles.js";
import {
  earClaims,
  gcpConfidentialSpaceClaims,
  itaTdxClaims,
  maaSevSnpClaims,
  maaTdxClaims,
} from "../../../support/attestation-claims.js";

const MEASUREMENT_48 = "c0".repeat(48);
const MEASUREMENT_32 = "c0".repeat(32);
const ISSUANCE = ["iss", "aud", "exp", "iat", "nbf", "jti"];

describe("attestation profile registry", () => {
  it("holds exactly the four vendor profiles, frozen", () => {
    expect(Object.keys(ATTESTATION_PROFILES)).toEqual([
      "azure-maa",
      "intel-trust-authority",
      "gcp-confidential-space",
      "veraison-ear",
    ]);
    expect(Object.isFrozen(ATTESTATION_PROFILES)).toBe(true);
  });

  it.each([
    ["azure-maa", true],
    ["veraison-ear", true],
    ["generic", false],
    ["toString", false],
    ["__proto__", false],
    ["Azure-MAA", false],
  ])("isVendorProfileName(%s) is %s", (name, expected) => {
    expect(isVendorProfileName(name)).toBe(expected);
  });
});

type BuilderRow = readonly [
  name: string,
  profile: keyof typeof ATTESTATION_PROFILES,
  payload: JWTPayload,
  expected: Partial<ProfiledTee>,
];

/** The test-support builders: their overrides land exactly where each profile reads them. */
const BUILDER_ROWS: readonly BuilderRow[] = [
  [
    "maaSevSnpClaims",
    "azure-maa",
    maaSevSnpClaims({ measurement: MEASUREMENT_48, debug: true, nonce: "n-0123456789" }),
    { platform: "sev-snp", measurement: MEASUREMENT_48, debug: true, nonce: "n-0123456789" },
  ],
  [
    "maaTdxClaims",
    "azure-maa",
    maaTdxClaims({ measurement: MEASUREMENT_48, debug: true, nonce: "n-0123456789" }),
    { platform: "tdx", measurement: MEASUREMENT_48, debug: true, nonce: "n-0123456789" },
  ],
  [
    "itaTdxClaims v2",
    "intel-trust-authority",
    itaTdxClaims({ measurement: MEASUREMENT_48, debug: true, nonce: "bm9uY2U=" }),
    { platform: "tdx", measurement: MEASUREMENT_48, debug: true, nonce: "bm9uY2U=" },
  ],
  [
    "itaTdxClaims v1",
    "intel-trust-authority",
    itaTdxClaims({ version: 1, measurement: MEASUREMENT_48, debug: false, nonce: "bm9uY2U=" }),
    { platform: "tdx", measurement: MEASUREMENT_48, debug: false, nonce: "bm9uY2U=" },
  ],
  [
    "gcpConfidentialSpaceClaims",
    "gcp-confidential-space",
    gcpConfidentialSpaceClaims({ measurement: MEASUREMENT_32, debug: true, nonce: "n-0123456789" }),
    { platform: "sev-snp", measurement: MEASUREMENT_32, debug: true, nonce: "n-0123456789" },
  ],
  [
    "earClaims (CCA)",
    "veraison-ear",
    earClaims({ measurement: MEASUREMENT_32, nonce: "n-0123456789", status: "warning" }),
    { platform: "cca", measurement: MEASUREMENT_32, debug: undefined, tcbStatus: "warning" },
  ],
  [
    "earClaims (SEV-SNP)",
    "veraison-ear",
    earClaims({ tee: "snp", measurement: MEASUREMENT_48, debug: true }),
    { platform: "sev-snp", measurement: MEASUREMENT_48, debug: true, tcbStatus: "affirming" },
  ],
  [
    "earClaims (TDX)",
    "veraison-ear",
    earClaims({ tee: "tdx", measurement: MEASUREMENT_48, debug: true }),
    { platform: "tdx", measurement: MEASUREMENT_48, debug: true, tcbStatus: "affirming" },
  ],
];

describe("test-support attestation claims", () => {
  it.each(BUILDER_ROWS)("%s is read back by %s", (_name, profile, payload, expected) => {
    const outcome = ATTESTATION_PROFILES[profile](payload);
    expect(outcome.ok).toBe(true);
    if (outcome.ok) expect(outcome.tee).toMatchObject(expected);
    for (const claim of ISSUANCE) expect(payload).not.toHaveProperty(claim);
  });

  it("merges and removes top-level claims", () => {
    const payload = maaSevSnpClaims({ claims: { "x-ms-compliance-status": undefined, extra: 1 } });
    expect(payload).not.toHaveProperty("x-ms-compliance-status");
    expect(payload["extra"]).toBe(1);
  });

  it("returns a fresh object each time", () => {
    const first = maaTdxClaims();
    first["tdx_mrtd"] = "00";
    expect(maaTdxClaims()["tdx_mrtd"]).not.toBe("00");
  });

  it("refuses a debug override for a CCA realm, which states no debug", () => {
    expect(() => earClaims({ debug: true })).toThrow(/states no debug/);
  });
});
