import type { AttestationProfile } from "./attestation-profile.js";
import { azureMaaProfile } from "./azure-maa.js";
import { gcpConfidentialSpaceProfile } from "./gcp-confidential-space.js";
import { intelTrustAuthorityProfile } from "./intel-trust-authority.js";
import { veraisonEarProfile } from "./veraison-ear.js";

export { compileGenericProfile, GENERIC_PROFILE_KEYS } from "./generic.js";

/** The names of the built-in vendor profiles (`profile:` of an `attestation` issuer). */
export type VendorProfileName =
  "azure-maa" | "intel-trust-authority" | "gcp-confidential-space" | "veraison-ear";

/**
 * The built-in attestation profiles by name: each maps the payload of a token verigate has
 * already verified onto `tee.*`, never throws, and fails closed on a wrongly typed claim.
 * The fifth profile, `generic`, is compiled from an issuer's claim mapping by
 * {@link compileGenericProfile}.
 *
 * - `azure-maa`: Microsoft Azure Attestation (`sevsnpvm`, `tdxvm`, `sgx`, `azurevm`).
 * - `intel-trust-authority`: Intel Trust Authority, v1 (flat) and v2 (nested `tdx` / `sgx`).
 * - `gcp-confidential-space`: Google Cloud Attestation tokens of Confidential Space workloads.
 * - `veraison-ear`: EAT Attestation Results from Veraison and the CoCo Trustee.
 */
export const ATTESTATION_PROFILES: Readonly<Record<VendorProfileName, AttestationProfile>> =
  Object.freeze({
    "azure-maa": azureMaaProfile,
    "intel-trust-authority": intelTrustAuthorityProfile,
    "gcp-confidential-space": gcpConfidentialSpaceProfile,
    "veraison-ear": veraisonEarProfile,
  });

/** Whether `name` names a built-in vendor profile (own keys only: `toString` is not a profile). */
export function isVendorProfileName(name: string): name is VendorProfileName {
  return Object.hasOwn(ATTESTATION_PROFILES, name);
}
