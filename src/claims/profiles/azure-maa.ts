import {
  NOTHING_PROFILED,
  defineProfile,
  type AttestationProfile,
  type ProfiledTee,
} from "./attestation-profile.js";
import {
  ClaimProblem,
  ClaimReader,
  combineDebug,
  quoteValue,
  resolveNonce,
  type NonceCandidate,
} from "./claim-values.js";

const TYPE = "x-ms-attestation-type";
const ISOLATION_TEE = "x-ms-isolation-tee";

type TeeFacts = Omit<ProfiledTee, "nonce">;

function readSevSnp(claims: ClaimReader): TeeFacts {
  return {
    platform: "sev-snp",
    measurement: claims.hex("x-ms-sevsnpvm-launchmeasurement", [48]),
    debug: claims.boolean("x-ms-sevsnpvm-is-debuggable"),
    tcbStatus: claims.status("x-ms-compliance-status"),
    svn: claims.svn("x-ms-sevsnpvm-guestsvn"),
  };
}

function readTdx(claims: ClaimReader): TeeFacts {
  return {
    platform: "tdx",
    measurement: claims.hex("tdx_mrtd", [48]),
    debug: combineDebug(claims.boolean("tdx_td_attributes_debug"), claims.dbgstat("dbgstat")),
    tcbStatus: claims.status("attester_tcb_status"),
    svn: undefined,
  };
}

function readSgx(claims: ClaimReader): TeeFacts {
  return {
    platform: "sgx",
    measurement: claims.hex("x-ms-sgx-mrenclave", [32]),
    debug: claims.boolean("x-ms-sgx-is-debuggable"),
    tcbStatus: undefined,
    svn: claims.svn("x-ms-sgx-svn"),
  };
}

function readAttestationType(claims: ClaimReader): string {
  const type = claims.string(TYPE);
  if (type === undefined) throw new ClaimProblem(claims.claim(TYPE), "missing");
  return type;
}

function readIsolationTee(payload: ClaimReader): TeeFacts {
  const tee = payload.object(ISOLATION_TEE);
  if (tee === undefined) throw new ClaimProblem(ISOLATION_TEE, "missing from an azurevm token");
  const type = readAttestationType(tee);
  if (type === "sevsnpvm") return readSevSnp(tee);
  if (type === "tdxvm") return readTdx(tee);
  throw new ClaimProblem(tee.claim(TYPE), `unsupported isolation type ${quoteValue(type)}`);
}

function readTee(payload: ClaimReader): TeeFacts {
  const type = readAttestationType(payload);
  switch (type) {
    case "sevsnpvm":
      return readSevSnp(payload);
    case "tdxvm":
      return readTdx(payload);
    case "sgx":
      return readSgx(payload);
    case "azurevm":
      return readIsolationTee(payload);
    default:
      throw new ClaimProblem(TYPE, `unknown attestation type ${quoteValue(type)}`);
  }
}

/** The nonces echoed under the `x-ms-runtime` object of `container`. */
function readRuntimeNonces(container: ClaimReader): NonceCandidate[] {
  const runtime = container.object("x-ms-runtime");
  if (runtime === undefined) return [];
  const clientPayload = runtime.object("client-payload");
  const candidates: NonceCandidate[] = [
    { claim: runtime.claim("nonce"), value: runtime.nonce("nonce") },
  ];
  if (clientPayload !== undefined)
    candidates.push({ claim: clientPayload.claim("nonce"), value: clientPayload.nonce("nonce") });
  return candidates;
}

function readMaaNonce(payload: ClaimReader): string | undefined {
  const candidates: NonceCandidate[] = [
    { claim: "nonce", value: payload.nonce("nonce") },
    ...readRuntimeNonces(payload),
  ];
  const isolationTee =
    payload.value(TYPE) === "azurevm" ? payload.object(ISOLATION_TEE) : undefined;
  if (isolationTee !== undefined) candidates.push(...readRuntimeNonces(isolationTee));
  return resolveNonce(candidates);
}

/**
 * Profile `azure-maa`: maps a verified Microsoft Azure Attestation (MAA) token onto `tee.*`.
 *
 * `x-ms-attestation-type` selects the claim set:
 *
 * | type | platform | measurement (hex) | debug | tcbStatus | svn |
 * | --- | --- | --- | --- | --- | --- |
 * | `sevsnpvm` | `sev-snp` | `x-ms-sevsnpvm-launchmeasurement` (48 bytes) | `x-ms-sevsnpvm-is-debuggable` | `x-ms-compliance-status` | `x-ms-sevsnpvm-guestsvn` |
 * | `tdxvm` | `tdx` | `tdx_mrtd` (48 bytes) | `tdx_td_attributes_debug`, `dbgstat` | `attester_tcb_status` | none |
 * | `sgx` | `sgx` | `x-ms-sgx-mrenclave` (32 bytes) | `x-ms-sgx-is-debuggable` | none | `x-ms-sgx-svn` |
 * | `azurevm` | from the object `x-ms-isolation-tee`, itself `sevsnpvm` or `tdxvm` and read as above |
 *
 * Decisions:
 * - `tcbStatus` is the vendor's word, unmapped: for SEV-SNP, MAA states no TCB level, only
 *   whether Azure's CVM policy accepted the VM (`x-ms-compliance-status`, e.g.
 *   `azure-compliant-cvm`); for TDX it is Intel's `attester_tcb_status` (`UpToDate`, ...).
 *   A policy names the words it accepts (`tee.tcbStatus: {in: [UpToDate, azure-compliant-cvm]}`).
 * - `svn` is the workload author's security version: the SEV-SNP guest SVN, the SGX ISV SVN.
 *   TDX has no such number (`tdx_tee_tcb_svn` is a 16-byte vector of platform SVNs), so it
 *   stays absent; it and the other `x-ms-sevsnpvm-*-svn` claims remain in `tee.claims.*`.
 * - `debug` is the hardware TEE's debug state. Every debug claim of the TEE counts and any
 *   `true` wins. The guest OS flags of `azurevm` tokens (`x-ms-azurevm-kerneldebug-enabled`,
 *   ...) describe the guest kernel, not the TEE; they stay in `tee.claims.*`.
 * - `nonce`: MAA echoes the request's nonce in `nonce` and the attester's runtime data under
 *   `x-ms-runtime` (the guest attestation library puts the caller's nonce at
 *   `x-ms-runtime.client-payload.nonce`). The nonce is read from `nonce`,
 *   `x-ms-runtime.nonce` and `x-ms-runtime.client-payload.nonce` (and, for `azurevm`, the same
 *   two under `x-ms-isolation-tee.x-ms-runtime`); every one present must agree. `""` is no nonce.
 * - An unknown or missing attestation type is a problem, as is `azurevm` nesting anything
 *   but `sevsnpvm` or `tdxvm`. Only `x-ms-*` names are read, not the legacy unprefixed SGX
 *   claims (`sgx-mrenclave`, `is-debuggable`, `svn`).
 */
export const azureMaaProfile: AttestationProfile = defineProfile((payload) => {
  const claims = ClaimReader.of(payload, "payload");
  return { ...NOTHING_PROFILED, ...readTee(claims), nonce: readMaaNonce(claims) };
});
