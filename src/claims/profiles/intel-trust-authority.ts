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
  describeValue,
  resolveNonce,
  type NonceCandidate,
} from "./claim-values.js";

type ItaTee = "TDX" | "SGX";

/** Where a v2 token nests each TEE's claims. */
const NESTED: Readonly<Record<ItaTee, string>> = { TDX: "tdx", SGX: "sgx" };

/** The TEE claims this profile reads; a v2 token must not carry them at the top level too. */
const TEE_CLAIMS = [
  "tdx_mrtd",
  "tdx_is_debuggable",
  "tdx_td_attributes_debug",
  "sgx_mrenclave",
  "sgx_is_debuggable",
  "sgx_isvsvn",
] as const;

/** `attester_type`: one name, or (composite attestation, e.g. TDX with a GPU) a list of names. */
function readAttesterTypes(claims: ClaimReader): readonly string[] | undefined {
  const value = claims.value("attester_type");
  if (value === undefined) return undefined;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new ClaimProblem(
    claims.claim("attester_type"),
    `expected a string or an array of strings, got ${describeValue(value)}`,
  );
}

/** The CPU TEE among the attester types (GPU types such as `NVGPU` ride along and are skipped). */
function readCpuTee(claims: ClaimReader): ItaTee | undefined {
  const types = readAttesterTypes(claims);
  if (types === undefined) return undefined;
  const tees = [...new Set(types.filter((t): t is ItaTee => t === "TDX" || t === "SGX"))];
  const [tee, other] = tees;
  if (other !== undefined)
    throw new ClaimProblem(claims.claim("attester_type"), "names both TDX and SGX");
  if (tee === undefined)
    throw new ClaimProblem(claims.claim("attester_type"), "names no TDX or SGX attester");
  return tee;
}

/** Finds the TEE and the object holding its claims: nested (v2) or the payload itself (v1). */
function locateTee(payload: ClaimReader): { readonly tee: ItaTee; readonly claims: ClaimReader } {
  const tdx = payload.object(NESTED.TDX);
  const sgx = payload.object(NESTED.SGX);
  if (tdx !== undefined && sgx !== undefined)
    throw new ClaimProblem("tdx, sgx", "a token describes one CPU TEE, not both");
  const nested = tdx ?? sgx;
  if (nested !== undefined) {
    const tee: ItaTee = tdx !== undefined ? "TDX" : "SGX";
    // Two copies of a claim (one ignored) would let the ignored one say "debug" unheard.
    const mixed = TEE_CLAIMS.find((name) => payload.has(name));
    if (mixed !== undefined)
      throw new ClaimProblem(mixed, `at the top level of a token that nests ${NESTED[tee]} claims`);
    for (const claims of [payload, nested]) {
      const named = readCpuTee(claims);
      if (named !== undefined && named !== tee)
        throw new ClaimProblem(
          claims.claim("attester_type"),
          `names ${named}, but the token nests ${NESTED[tee]} claims`,
        );
    }
    return { tee, claims: nested };
  }
  const named = readCpuTee(payload);
  if (named !== undefined) return { tee: named, claims: payload };
  const hasTdx = payload.has("tdx_mrtd");
  const hasSgx = payload.has("sgx_mrenclave");
  if (hasTdx === hasSgx)
    throw new ClaimProblem(
      "attester_type",
      hasTdx
        ? "missing, and the token carries both tdx_mrtd and sgx_mrenclave"
        : "missing, and the token carries neither tdx_mrtd nor sgx_mrenclave",
    );
  return { tee: hasTdx ? "TDX" : "SGX", claims: payload };
}

function readTdx(claims: ClaimReader): Omit<ProfiledTee, "nonce"> {
  return {
    platform: "tdx",
    measurement: claims.hex("tdx_mrtd", [48]),
    debug: combineDebug(
      claims.boolean("tdx_is_debuggable"),
      claims.boolean("tdx_td_attributes_debug"),
      claims.dbgstat("dbgstat"),
    ),
    tcbStatus: claims.status("attester_tcb_status"),
    svn: undefined,
  };
}

function readSgx(claims: ClaimReader): Omit<ProfiledTee, "nonce"> {
  return {
    platform: "sgx",
    measurement: claims.hex("sgx_mrenclave", [32]),
    debug: combineDebug(claims.boolean("sgx_is_debuggable"), claims.dbgstat("dbgstat")),
    tcbStatus: claims.status("attester_tcb_status"),
    svn: claims.svn("sgx_isvsvn"),
  };
}

/** `verifier_nonce` is `{ val, iat, signature }`; the nonce is `val`, kept as the text ITA wrote. */
function readVerifierNonce(claims: ClaimReader): NonceCandidate {
  const nonce = claims.object("verifier_nonce");
  if (nonce === undefined) return { claim: claims.claim("verifier_nonce"), value: undefined };
  const value = nonce.nonce("val");
  if (value === undefined && !nonce.has("val"))
    throw new ClaimProblem(nonce.claim("val"), "missing from verifier_nonce");
  return { claim: nonce.claim("val"), value };
}

/**
 * Profile `intel-trust-authority`: maps a verified Intel Trust Authority (ITA) token onto `tee.*`.
 *
 * Layouts: v1 tokens carry the TEE claims at the top level; v2 tokens (`ver` 2.x) nest them
 * in an object named `tdx` or `sgx`, and then every TEE claim below is read from that object
 * only (a v2 token that also carries one of them at the top level is a problem). The TEE is the one `attester_type` names (`TDX` or `SGX`; a list such as
 * `["TDX", "NVGPU"]` may add GPUs). Without `attester_type`, the v2 object's name decides, or
 * in v1 whichever of `tdx_mrtd` / `sgx_mrenclave` is present. Two TEEs, or an
 * `attester_type` that contradicts the nested object, are problems.
 *
 * | TEE | platform | measurement (hex) | debug (any `true` wins) | tcbStatus | svn |
 * | --- | --- | --- | --- | --- | --- |
 * | TDX | `tdx` | `tdx_mrtd` (48 bytes) | `tdx_is_debuggable`, `tdx_td_attributes_debug`, `dbgstat` | `attester_tcb_status` | none |
 * | SGX | `sgx` | `sgx_mrenclave` (32 bytes) | `sgx_is_debuggable`, `dbgstat` | `attester_tcb_status` | `sgx_isvsvn` |
 *
 * `tcbStatus` is Intel's word as written (`UpToDate`, `OutOfDate`, `SWHardeningNeeded`, ...).
 * TDX has no workload SVN (`tdx_tee_tcb_svn` is a 16-byte vector of platform SVNs; it stays
 * in `tee.claims.*`). `nonce` is `verifier_nonce.val` (the ITA-signed nonce value, as the
 * base64 text ITA wrote), read at the top level and, in v2, also inside the nested object;
 * when both are present they must agree.
 */
export const intelTrustAuthorityProfile: AttestationProfile = defineProfile((payload) => {
  const claims = ClaimReader.of(payload, "payload");
  const { tee, claims: teeClaims } = locateTee(claims);
  const candidates = [readVerifierNonce(claims)];
  if (teeClaims !== claims) candidates.push(readVerifierNonce(teeClaims));
  return {
    ...NOTHING_PROFILED,
    ...(tee === "TDX" ? readTdx(teeClaims) : readSgx(teeClaims)),
    nonce: resolveNonce(candidates),
  };
});
