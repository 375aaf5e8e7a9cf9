import { NOTHING_PROFILED, defineProfile, type AttestationProfile } from "./attestation-profile.js";
import { ClaimProblem, ClaimReader, quoteValue } from "./claim-values.js";

/**
 * `hwmodel` values and their platforms. `GCP_SHIELDED_VM` is a VM without memory encryption:
 * it is named as such (`shielded-vm`), so a policy that lists TEE platforms never matches it.
 */
const PLATFORMS: Readonly<Record<string, string>> = Object.freeze({
  GCP_AMD_SEV: "sev",
  GCP_AMD_SEV_ES: "sev-es",
  GCP_AMD_SEV_SNP: "sev-snp",
  GCP_INTEL_TDX: "tdx",
  GCP_SHIELDED_VM: "shielded-vm",
});

function readPlatformOf(claims: ClaimReader): string | undefined {
  const hwmodel = claims.string("hwmodel");
  if (hwmodel === undefined) return undefined;
  const platform = Object.hasOwn(PLATFORMS, hwmodel) ? PLATFORMS[hwmodel] : undefined;
  if (platform === undefined)
    throw new ClaimProblem("hwmodel", `unknown hardware model ${quoteValue(hwmodel)}`);
  return platform;
}

/**
 * Profile `gcp-confidential-space`: maps a verified Google Cloud Attestation token from a
 * Confidential Space workload onto `tee.*`.
 *
 * - platform: `hwmodel`: `GCP_AMD_SEV` -> `sev`, `GCP_AMD_SEV_ES` -> `sev-es`,
 *   `GCP_AMD_SEV_SNP` -> `sev-snp`, `GCP_INTEL_TDX` -> `tdx`, `GCP_SHIELDED_VM` ->
 *   `shielded-vm` (no memory encryption); any other value is a problem.
 * - measurement: `submods.container.image_digest` (`sha256:<hex>` -> the hex): the workload
 *   container Confidential Space launched. Absent (a plain Confidential VM token, `swname`
 *   `GCE`), it stays absent.
 * - debug: `dbgstat`: `enabled` (a debug image) -> `true`; `disabled-since-boot` and the other
 *   EAT `disabled...` states -> `false`.
 * - tcbStatus, svn: none; the token states no TCB level and no security version
 *   (`swname`, `swversion` and `submods.confidential_space.support_attributes` stay in
 *   `tee.claims.*` for policies that need them, e.g. `swname: CONFIDENTIAL_SPACE`).
 * - nonce: `eat_nonce`, a string or an array of strings; an array must hold exactly one
 *   (verigate checks one nonce, and choosing among several would be a guess).
 */
export const gcpConfidentialSpaceProfile: AttestationProfile = defineProfile((payload) => {
  const claims = ClaimReader.of(payload, "payload");
  const container = claims.object("submods")?.object("container");
  return {
    ...NOTHING_PROFILED,
    platform: readPlatformOf(claims),
    measurement: container?.sha256DigestAsHex("image_digest"),
    debug: claims.dbgstat("dbgstat"),
    nonce: claims.eatNonce("eat_nonce"),
  };
});
