import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type {
  ProfiledTee,
  ProfileOutcome,
} from "../../../../src/claims/profiles/attestation-profile.js";
import { intelTrustAuthorityProfile } from "../../../../src/claims/profiles/intel-trust-authority.js";
import { itaTdxClaims } from "../../../support/attestation-claims.js";

type Payload = Record<string, unknown>;

const MRTD =
  "5be56d418d33661a6c21da77c9503a07e430b35eb92a0bd042a6b3c4e79b3c82bb1c594e770d0d129a0724669f1e953f";
const MRENCLAVE = "69a8788a94e77a4d0cb91a5974022c4fa3422fb6fad96d576af38ff42a7a9f3d";
const NONCE_VAL =
  "VVJTM1duVXBGbS9XVEc1cG82WXl3MlVpWGRSM3VJL20wUnUrZ3UvSVBKbGN4bUZjd0Z2ekxvNjlUcy9VZHIvQjEvRzRhSXFLY3Z5QjhraFNrc3RlS3c9PQ==";

/** TDX claims of the MAA TDX vector in ITA's v2 (nested) layout. */
const tdxV2 = (): Payload => itaTdxClaims();
/** The same claims in the v1 (flat) layout. */
const tdxV1 = (): Payload => itaTdxClaims({ version: 1 });

/** v2 token with its nested `tdx` object changed. */
function withTdx(changes: Payload): Payload {
  const token = tdxV2();
  return { ...token, tdx: { ...(token["tdx"] as Payload), ...changes } };
}

/** The SGX claims of Intel's published v1 SGX token sample (Intel Trust Authority tutorial). */
const sgxClaims = (): Payload => ({
  attester_advisory_ids: ["INTEL-SA-00615"],
  attester_held_data: "AQABADlv1PbS1x7IfABDWhiRefEW3gL",
  attester_tcb_date: "2023-08-09T00:00:00Z",
  attester_tcb_status: "SWHardeningNeeded",
  attester_type: "SGX",
  dbgstat: "disabled",
  sgx_collateral: {
    qeidcerthash: "b2ca71b8e849d5e799451b4bfe43159a0ee548032cecb2c0e479bf6ee3f39fd1",
    quotehash: "0ce7045396560ba539baf2755103b3e3d47c9bf11232ce8b85c64ac832502f6b",
  },
  sgx_is_debuggable: false,
  sgx_isvprodid: 0,
  sgx_isvsvn: 0,
  sgx_mrenclave: MRENCLAVE,
  sgx_mrsigner: "d412a4f07ef83892a5915fb2ab584be31e186e5a4f95ab5f6950fd4eb8694d7b",
  sgx_report_data:
    "5446be95dcffa3c875fd6f5611122241c2997bf1fafa575ce7bc9ad26d52d4b80000000000000000000000000000000000000000000000000000000000000000",
});
const sgxV1 = (): Payload => ({
  ...sgxClaims(),
  eat_profile: "https://portal.trustauthority.intel.com/eat_profile.html",
  intuse: "generic",
  ver: "1.0.0",
  verifier_instance_ids: ["aece4c92-dab7-43b6-b05a-e8ec6544669f"],
  verifier_nonce: {
    iat: "MjAyNC0wNC0zMCAwMjoxNjoxMiArMDAwMCBVVEM=",
    signature: "hFiNLoiTeStP18ZXIERxgVT2BTYhu76OWnNbycnpPt4C",
    val: NONCE_VAL,
  },
});
const sgxV2 = (): Payload => ({
  eat_profile: "https://portal.trustauthority.intel.com/eat_profile.html",
  intuse: "generic",
  sgx: { ...sgxClaims(), attester_tcb_status: "OutOfDate" },
  ver: "2.0.0",
});

const profile = (payload: unknown): ProfileOutcome =>
  intelTrustAuthorityProfile(payload as JWTPayload);

const TDX: ProfiledTee = {
  platform: "tdx",
  measurement: MRTD,
  debug: false,
  tcbStatus: "UpToDate",
  svn: undefined,
  nonce: undefined,
};
const SGX: ProfiledTee = {
  platform: "sgx",
  measurement: MRENCLAVE,
  debug: false,
  tcbStatus: "SWHardeningNeeded",
  svn: 0,
  nonce: NONCE_VAL,
};

const ok = (tee: ProfiledTee): ProfileOutcome => ({ ok: true, tee });
const problem = (text: string): ProfileOutcome => ({ ok: false, problem: text });

type Row = readonly [name: string, payload: () => unknown, expected: ProfileOutcome];

const ROWS: readonly Row[] = [
  // TDX, both layouts
  ["TDX v2 (nested)", tdxV2, ok(TDX)],
  ["TDX v1 (flat)", tdxV1, ok(TDX)],
  ["TDX v2 debug TD", () => itaTdxClaims({ debug: true }), ok({ ...TDX, debug: true })],
  ["TDX v1 debug TD", () => itaTdxClaims({ debug: true, version: 1 }), ok({ ...TDX, debug: true })],
  [
    "TDX tdx_is_debuggable alone says debug (fails closed)",
    () => withTdx({ tdx_is_debuggable: true }),
    ok({ ...TDX, debug: true }),
  ],
  [
    "TDX with no debug claim",
    () =>
      withTdx({
        tdx_is_debuggable: undefined,
        tdx_td_attributes_debug: undefined,
        dbgstat: undefined,
      }),
    ok({ ...TDX, debug: undefined }),
  ],
  [
    'TDX v1 debug as "false"',
    () => ({ ...tdxV1(), tdx_is_debuggable: "false" }),
    problem("tdx_is_debuggable: expected a boolean, got a string"),
  ],
  [
    "TDX v2 debug wrongly typed names the nested claim",
    () => withTdx({ tdx_td_attributes_debug: 1 }),
    problem("tdx.tdx_td_attributes_debug: expected a boolean, got a number"),
  ],
  [
    "TDX v2 without MRTD",
    () => withTdx({ tdx_mrtd: undefined }),
    ok({ ...TDX, measurement: undefined }),
  ],
  [
    "TDX v2 MRTD too short",
    () => withTdx({ tdx_mrtd: MRTD.slice(0, 64) }),
    problem("tdx.tdx_mrtd: expected 48 bytes, got 32"),
  ],
  [
    "TDX v2 with a TEE claim at the top level too",
    () => ({ ...tdxV2(), tdx_is_debuggable: true }),
    problem("tdx_is_debuggable: at the top level of a token that nests tdx claims"),
  ],
  [
    "TDX TCB status words pass as written",
    () => withTdx({ attester_tcb_status: "OUT_OF_DATE" }),
    ok({ ...TDX, tcbStatus: "OUT_OF_DATE" }),
  ],
  // SGX
  ["SGX v1 (Intel's sample)", sgxV1, ok(SGX)],
  ["SGX v2 (nested)", sgxV2, ok({ ...SGX, tcbStatus: "OutOfDate", nonce: undefined })],
  [
    "SGX debuggable enclave",
    () => ({ ...sgxV1(), sgx_is_debuggable: true }),
    ok({ ...SGX, debug: true }),
  ],
  [
    "SGX dbgstat enabled wins (fails closed)",
    () => ({ ...sgxV1(), dbgstat: "enabled" }),
    ok({ ...SGX, debug: true }),
  ],
  [
    'SGX ISV SVN as "0"',
    () => ({ ...sgxV1(), sgx_isvsvn: "0" }),
    problem("sgx_isvsvn: expected a non-negative integer, got a string"),
  ],
  [
    "SGX MRENCLAVE not hex",
    () => ({ ...sgxV1(), sgx_mrenclave: "<redacted>" }),
    problem("sgx_mrenclave: expected hex digits (an even number of 0-9 a-f)"),
  ],
  // which TEE
  [
    "v2 with both tdx and sgx",
    () => ({ ...tdxV2(), sgx: sgxClaims() }),
    problem("tdx, sgx: a token describes one CPU TEE, not both"),
  ],
  [
    "v2 nested attester_type contradicting the object",
    () => withTdx({ attester_type: "SGX" }),
    problem("tdx.attester_type: names SGX, but the token nests tdx claims"),
  ],
  [
    "v2 top-level attester_type contradicting the object",
    () => ({ ...tdxV2(), attester_type: "SGX" }),
    problem("attester_type: names SGX, but the token nests tdx claims"),
  ],
  ["v2 without attester_type", () => withTdx({ attester_type: undefined }), ok(TDX)],
  [
    "v2 tdx not an object",
    () => ({ ...tdxV2(), tdx: "yes" }),
    problem("tdx: expected an object, got a string"),
  ],
  [
    "v1 composite attester_type TDX with a GPU",
    () => ({ ...tdxV1(), attester_type: ["TDX", "NVGPU"] }),
    ok(TDX),
  ],
  [
    "v1 without attester_type: TDX inferred from tdx_mrtd",
    () => ({ ...tdxV1(), attester_type: undefined }),
    ok(TDX),
  ],
  [
    "v1 without attester_type: SGX inferred from sgx_mrenclave",
    () => ({ ...sgxV1(), attester_type: undefined }),
    ok(SGX),
  ],
  [
    "v1 without attester_type, both TEEs' claims",
    () => ({ ...tdxV1(), attester_type: undefined, sgx_mrenclave: MRENCLAVE }),
    problem("attester_type: missing, and the token carries both tdx_mrtd and sgx_mrenclave"),
  ],
  [
    "v1 without attester_type or TEE claims",
    () => ({ ver: "1.0.0", attester_tcb_status: "UpToDate" }),
    problem("attester_type: missing, and the token carries neither tdx_mrtd nor sgx_mrenclave"),
  ],
  [
    "v1 attester_type of another TEE",
    () => ({ ...tdxV1(), attester_type: "SEVSNP" }),
    problem("attester_type: names no TDX or SGX attester"),
  ],
  [
    "v1 attester_type naming TDX and SGX",
    () => ({ ...tdxV1(), attester_type: ["TDX", "SGX"] }),
    problem("attester_type: names both TDX and SGX"),
  ],
  [
    "attester_type as a number",
    () => ({ ...tdxV1(), attester_type: 7 }),
    problem("attester_type: expected a string or an array of strings, got a number"),
  ],
  [
    "attester_type lowercase is not TDX",
    () => ({ ...tdxV1(), attester_type: "tdx" }),
    problem("attester_type: names no TDX or SGX attester"),
  ],
  // nonce
  [
    "nonce from verifier_nonce.val",
    () => itaTdxClaims({ nonce: NONCE_VAL }),
    ok({ ...TDX, nonce: NONCE_VAL }),
  ],
  [
    "verifier_nonce without val",
    () => ({ ...tdxV2(), verifier_nonce: { iat: "MjAy", signature: "hFiN" } }),
    problem("verifier_nonce.val: missing from verifier_nonce"),
  ],
  [
    "verifier_nonce as a string",
    () => ({ ...tdxV2(), verifier_nonce: NONCE_VAL }),
    problem("verifier_nonce: expected an object, got a string"),
  ],
  [
    "verifier_nonce val as a number",
    () => ({ ...tdxV2(), verifier_nonce: { val: 5 } }),
    problem("verifier_nonce.val: expected a string, got a number"),
  ],
  [
    "v2 nested verifier_nonce agreeing with the top-level one",
    () => ({
      ...withTdx({ verifier_nonce: { val: NONCE_VAL } }),
      verifier_nonce: { val: NONCE_VAL },
    }),
    ok({ ...TDX, nonce: NONCE_VAL }),
  ],
  [
    "v2 nested verifier_nonce contradicting the top-level one",
    () => ({
      ...withTdx({ verifier_nonce: { val: "b3RoZXI=" } }),
      verifier_nonce: { val: NONCE_VAL },
    }),
    problem("verifier_nonce.val, tdx.verifier_nonce.val: the token echoes different nonces"),
  ],
  ["payload an array", () => [tdxV1()], problem("payload: expected an object, got an array")],
];

describe("intel-trust-authority profile", () => {
  it.each(ROWS)("%s", (_name, payload, expected) => {
    expect(profile(payload())).toStrictEqual(expected);
  });
});
