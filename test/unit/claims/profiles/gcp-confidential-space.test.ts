import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type {
  ProfiledTee,
  ProfileOutcome,
} from "../../../../src/claims/profiles/attestation-profile.js";
import { gcpConfidentialSpaceProfile } from "../../../../src/claims/profiles/gcp-confidential-space.js";
import { gcpConfidentialSpaceClaims } from "../../../support/attestation-claims.js";

type Payload = Record<string, unknown>;

const DIGEST = "6e5b1c8a3d9f0e2b4c7a1d8e5f3b9c0a2e4d6f8b1a3c5e7d9f0b2d4c6e8a0b1c";

/** A Confidential Space workload token (SEV-SNP, production image). */
const space = (): Payload => gcpConfidentialSpaceClaims();

/** The token with `submods.container` changed. */
function withContainer(changes: Payload): Payload {
  const token = space();
  const submods = token["submods"] as Payload;
  return {
    ...token,
    submods: { ...submods, container: { ...(submods["container"] as Payload), ...changes } },
  };
}

/**
 * The decoded example token of Google's "Confidential VM token claims" page: a plain
 * Confidential VM (swname GCE, AMD SEV, debug enabled, two nonces), issuance claims dropped.
 */
const confidentialVm = (): Payload => ({
  sub: "https://www.googleapis.com/compute/v1/projects/ruidezhang-2/zones/us-central1-c/instances/cvm-token-claims",
  eat_nonce: [
    "thisIsAcustomNonce",
    "thisIsAMuchLongerCustomNonceWithPaddingFor74Bytes0000000000000000000000000",
  ],
  secboot: false,
  oemid: 11129,
  hwmodel: "GCP_AMD_SEV",
  swname: "GCE",
  dbgstat: "enabled",
  submods: {
    gce: {
      zone: "us-central1-c",
      project_id: "ruidezhang-2",
      project_number: "470652426305",
      instance_name: "cvm-token-claims",
      instance_id: "7333251546816446069",
    },
  },
  google_service_accounts: ["470652426305-compute@developer.gserviceaccount.com"],
});

const profile = (payload: unknown): ProfileOutcome =>
  gcpConfidentialSpaceProfile(payload as JWTPayload);

const SPACE: ProfiledTee = {
  platform: "sev-snp",
  measurement: DIGEST,
  debug: false,
  tcbStatus: undefined,
  svn: undefined,
  nonce: undefined,
};

const ok = (tee: ProfiledTee): ProfileOutcome => ({ ok: true, tee });
const problem = (text: string): ProfileOutcome => ({ ok: false, problem: text });

type Row = readonly [name: string, payload: () => unknown, expected: ProfileOutcome];

const ROWS: readonly Row[] = [
  ["Confidential Space production image", space, ok(SPACE)],
  ["debug image", () => ({ ...space(), dbgstat: "enabled" }), ok({ ...SPACE, debug: true })],
  ["other EAT disabled states", () => ({ ...space(), dbgstat: "disabled-permanently" }), ok(SPACE)],
  ["no dbgstat", () => ({ ...space(), dbgstat: undefined }), ok({ ...SPACE, debug: undefined })],
  [
    "dbgstat as a boolean",
    () => ({ ...space(), dbgstat: false }),
    problem("dbgstat: expected a string, got a boolean"),
  ],
  [
    "dbgstat of another spelling",
    () => ({ ...space(), dbgstat: "Disabled" }),
    problem('dbgstat: unknown debug status "Disabled"'),
  ],
  [
    "Intel TDX",
    () => ({ ...space(), hwmodel: "GCP_INTEL_TDX" }),
    ok({ ...SPACE, platform: "tdx" }),
  ],
  ["AMD SEV", () => ({ ...space(), hwmodel: "GCP_AMD_SEV" }), ok({ ...SPACE, platform: "sev" })],
  [
    "AMD SEV-ES",
    () => ({ ...space(), hwmodel: "GCP_AMD_SEV_ES" }),
    ok({ ...SPACE, platform: "sev-es" }),
  ],
  [
    "a Shielded VM is named, not passed off as a TEE",
    () => ({ ...space(), hwmodel: "GCP_SHIELDED_VM" }),
    ok({ ...SPACE, platform: "shielded-vm" }),
  ],
  [
    "unknown hardware model",
    () => ({ ...space(), hwmodel: "GCP_ARM_CCA" }),
    problem('hwmodel: unknown hardware model "GCP_ARM_CCA"'),
  ],
  [
    "hardware model named after an Object method",
    () => ({ ...space(), hwmodel: "toString" }),
    problem('hwmodel: unknown hardware model "toString"'),
  ],
  [
    "no hardware model",
    () => ({ ...space(), hwmodel: undefined }),
    ok({ ...SPACE, platform: undefined }),
  ],
  [
    "uppercase image digest is lowercased",
    () => withContainer({ image_digest: `sha256:${DIGEST.toUpperCase()}` }),
    ok(SPACE),
  ],
  [
    "image digest without its algorithm",
    () => withContainer({ image_digest: DIGEST }),
    problem('submods.container.image_digest: expected "sha256:" followed by 64 hex digits'),
  ],
  [
    "image digest of another algorithm",
    () => withContainer({ image_digest: `sha512:${DIGEST}${DIGEST}` }),
    problem('submods.container.image_digest: expected "sha256:" followed by 64 hex digits'),
  ],
  [
    "image digest truncated",
    () => withContainer({ image_digest: `sha256:${DIGEST.slice(1)}` }),
    problem('submods.container.image_digest: expected "sha256:" followed by 64 hex digits'),
  ],
  [
    "image digest as an array",
    () => withContainer({ image_digest: [`sha256:${DIGEST}`] }),
    problem("submods.container.image_digest: expected a string, got an array"),
  ],
  [
    "no image digest",
    () => withContainer({ image_digest: undefined }),
    ok({ ...SPACE, measurement: undefined }),
  ],
  [
    "submods not an object",
    () => ({ ...space(), submods: "container" }),
    problem("submods: expected an object, got a string"),
  ],
  [
    "container not an object",
    () => ({ ...space(), submods: { container: 5 } }),
    problem("submods.container: expected an object, got a number"),
  ],
  [
    "one nonce as a string",
    () => gcpConfidentialSpaceClaims({ nonce: "abcdefgh12" }),
    ok({ ...SPACE, nonce: "abcdefgh12" }),
  ],
  [
    "one nonce in an array",
    () => ({ ...space(), eat_nonce: ["abcdefgh12"] }),
    ok({ ...SPACE, nonce: "abcdefgh12" }),
  ],
  [
    "several nonces are not chosen among",
    () => ({ ...space(), eat_nonce: ["abcdefgh12", "ijklmnop34"] }),
    problem("eat_nonce: expected one nonce, got an array of 2 (verigate checks exactly one)"),
  ],
  [
    "an empty nonce array",
    () => ({ ...space(), eat_nonce: [] }),
    problem("eat_nonce: expected one nonce, got an array of 0 (verigate checks exactly one)"),
  ],
  [
    "a nonce array holding a number",
    () => ({ ...space(), eat_nonce: [12345678] }),
    problem("eat_nonce.0: expected a string, got a number"),
  ],
  [
    "Google's Confidential VM example (GCE, two nonces)",
    confidentialVm,
    problem("eat_nonce: expected one nonce, got an array of 2 (verigate checks exactly one)"),
  ],
  [
    "Google's Confidential VM example with one nonce: no container, debug enabled",
    () => ({ ...confidentialVm(), eat_nonce: "thisIsAcustomNonce" }),
    ok({
      platform: "sev",
      measurement: undefined,
      debug: true,
      tcbStatus: undefined,
      svn: undefined,
      nonce: "thisIsAcustomNonce",
    }),
  ],
  ["payload a string", () => "token", problem("payload: expected an object, got a string")],
];

describe("gcp-confidential-space profile", () => {
  it.each(ROWS)("%s", (_name, payload, expected) => {
    expect(profile(payload())).toStrictEqual(expected);
  });

  it("the support builder's overrides land where the profile reads them", () => {
    const digest = "ab".repeat(32);
    expect(
      profile(
        gcpConfidentialSpaceClaims({ measurement: digest, debug: true, nonce: "n-12345678" }),
      ),
    ).toStrictEqual(ok({ ...SPACE, measurement: digest, debug: true, nonce: "n-12345678" }));
  });
});
