import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type {
  ProfiledTee,
  ProfileOutcome,
} from "../../../../src/claims/profiles/attestation-profile.js";
import { veraisonEarProfile } from "../../../../src/claims/profiles/veraison-ear.js";
import {
  earClaims,
  readVectorJson,
  readVectorJwtPayload,
} from "../../../support/attestation-claims.js";

type Payload = Record<string, unknown>;

/** The realm initial measurement of the Trustee token, `3q/VQMyO...qPbFDs=` as hex. */
const RIM = "deafd540cc8eaeb8c6f6866b92b4ec1273a64979888a0e7657c8dddaa3db143b";
const SNP_MEASUREMENT =
  "04a170f39a3f702472ed0c7ecbda9babfc530e3caac475fdd607ff499177d14c278c5a15ad07ceacd5230ae63d507e9d";
const MRTD =
  "5be56d418d33661a6c21da77c9503a07e430b35eb92a0bd042a6b3c4e79b3c82bb1c594e770d0d129a0724669f1e953f";

/** The real CoCo Trustee EAR (CCA realm), its payload base64url-decoded. */
const trustee = (): Payload => readVectorJwtPayload("jwt/ear/trustee-cca-realm-ear-expired.jwt");

/** A payload whose `cpu0` appraisal is changed by `change` (on a fresh copy). */
function withCpu0(payload: Payload, change: (cpu0: Payload) => void): Payload {
  change((payload["submods"] as Payload)["cpu0"] as Payload);
  return payload;
}

/** The Trustee token with its annotated evidence changed. */
function withEvidence(change: (evidence: Payload) => void, payload = trustee()): Payload {
  return withCpu0(payload, (cpu0) => change(cpu0["ear.veraison.annotated-evidence"] as Payload));
}

/** The Trustee token with its CCA realm claims changed. */
function withRealm(changes: Payload): Payload {
  return withEvidence((evidence) => {
    const cca = evidence["cca"] as Payload;
    Object.assign(cca["realm"] as Payload, changes);
  });
}

/** Trustee's current token layout (`ear_status`, `ear_attester_claims`), built from the vector. */
function currentLayout(tee: string, claims: unknown): Payload {
  const old = trustee();
  const { "ear.verifier-id": verifierId, ...rest } = old;
  return {
    ...rest,
    ear_verifier_id: verifierId,
    submods: {
      cpu0: {
        ear_status: "affirming",
        ear_trustworthiness_vector: { configuration: 2, executables: 3, hardware: 2 },
        ear_appraisal_policy_ids: ["default"],
        ear_attester_claims: { init_data: "00", report_data: "44f9", tee, claims },
      },
    },
  };
}

/** An EAR with one appraisal per status (Veraison's sample claim set as the template). */
function withStatuses(...statuses: string[]): Payload {
  const ear = readVectorJson("jwt/ear/ear-claims.json");
  ear["submods"] = Object.fromEntries(
    statuses.map((status, i) => [`attester${i}`, { "ear.status": status }]),
  );
  return ear;
}

const profile = (payload: unknown): ProfileOutcome => veraisonEarProfile(payload as JWTPayload);

const CCA: ProfiledTee = {
  platform: "cca",
  measurement: RIM,
  debug: undefined,
  tcbStatus: "affirming",
  svn: undefined,
  nonce: undefined,
};
const SNP: ProfiledTee = {
  ...CCA,
  platform: "sev-snp",
  measurement: SNP_MEASUREMENT,
  debug: false,
};
const TDX: ProfiledTee = { ...CCA, platform: "tdx", measurement: MRTD, debug: false };
const NO_TEE: ProfiledTee = { ...CCA, platform: undefined, measurement: undefined };

const ok = (tee: ProfiledTee): ProfileOutcome => ({ ok: true, tee });
const problem = (text: string): ProfileOutcome => ({ ok: false, problem: text });
const ANNOTATED = "submods.cpu0.ear.veraison.annotated-evidence";

type Row = readonly [name: string, payload: () => unknown, expected: ProfileOutcome];

const ROWS: readonly Row[] = [
  // the real Trustee token, and Veraison's claim sets
  ["Trustee CCA realm token as issued", trustee, ok(CCA)],
  ["Veraison EAR sample", () => readVectorJson("jwt/ear/ear-claims.json"), ok(NO_TEE)],
  [
    "Veraison EAR with a trustworthiness vector (the signed ear-es256.jwt)",
    () => readVectorJwtPayload("jwt/ear/ear-es256.jwt"),
    ok(NO_TEE),
  ],
  [
    "Veraison key attestation, contraindicated",
    () => readVectorJson("jwt/ear/ear-claims-key-attestation-ko.json"),
    ok({ ...NO_TEE, tcbStatus: "contraindicated" }),
  ],
  [
    "Veraison annotated evidence of no known TEE",
    () => readVectorJson("jwt/ear/ear-claims-extension-ok.json"),
    ok(NO_TEE),
  ],
  // status order
  [
    "affirming and warning",
    () => withStatuses("affirming", "warning"),
    ok({ ...NO_TEE, tcbStatus: "warning" }),
  ],
  [
    "affirming and none",
    () => withStatuses("affirming", "none"),
    ok({ ...NO_TEE, tcbStatus: "none" }),
  ],
  ["none and warning", () => withStatuses("none", "warning"), ok({ ...NO_TEE, tcbStatus: "none" })],
  [
    "none and contraindicated",
    () => withStatuses("contraindicated", "none", "affirming"),
    ok({ ...NO_TEE, tcbStatus: "contraindicated" }),
  ],
  [
    "top-level ear_status counts too",
    () => ({ ...trustee(), ear_status: "warning" }),
    ok({ ...CCA, tcbStatus: "warning" }),
  ],
  [
    "both status spellings in one appraisal: the worse counts",
    () => withCpu0(trustee(), (cpu0) => (cpu0["ear_status"] = "contraindicated")),
    ok({ ...CCA, tcbStatus: "contraindicated" }),
  ],
  [
    "status of another case",
    () => withStatuses("Affirming"),
    problem('submods.attester0.ear.status: unknown status "Affirming"'),
  ],
  [
    "status as a tier number",
    () => ({ ...withStatuses(), submods: { a: { "ear.status": 2 } } }),
    problem("submods.a.ear.status: expected a string, got a number"),
  ],
  [
    "appraisal without status",
    () => withCpu0(trustee(), (cpu0) => delete cpu0["ear.status"]),
    problem("submods.cpu0: has no ear.status or ear_status"),
  ],
  [
    "appraisal not an object",
    () => ({ ...trustee(), submods: { cpu0: "affirming" } }),
    problem("submods.cpu0: expected an object, got a string"),
  ],
  [
    "no submods",
    () => ({ ...trustee(), submods: undefined }),
    problem("submods: missing or empty (an EAR carries at least one appraisal)"),
  ],
  [
    "empty submods",
    () => ({ ...trustee(), submods: {} }),
    problem("submods: missing or empty (an EAR carries at least one appraisal)"),
  ],
  [
    "submods as an array",
    () => ({ ...trustee(), submods: [{ "ear.status": "affirming" }] }),
    problem("submods: expected an object, got an array"),
  ],
  // CCA
  [
    "CCA realm measurement not base64",
    () => withRealm({ "cca-realm-initial-measurement": "3q/VQMyO*rrjG9oZ" }),
    problem(`${ANNOTATED}.cca.realm.cca-realm-initial-measurement: expected canonical base64`),
  ],
  [
    "CCA realm measurement of 20 bytes",
    () => withRealm({ "cca-realm-initial-measurement": Buffer.alloc(20, 1).toString("base64") }),
    problem(
      `${ANNOTATED}.cca.realm.cca-realm-initial-measurement: expected 32 or 48 or 64 bytes, got 20`,
    ),
  ],
  [
    "CCA realm measurement in base64url",
    () =>
      withRealm({ "cca-realm-initial-measurement": Buffer.from(RIM, "hex").toString("base64url") }),
    ok(CCA),
  ],
  [
    "CCA realm without its measurement",
    () => withRealm({ "cca-realm-initial-measurement": undefined }),
    ok({ ...CCA, measurement: undefined }),
  ],
  // SEV-SNP and TDX evidence in Trustee's layout
  ["Trustee SEV-SNP guest", () => earClaims({ tee: "snp" }), ok(SNP)],
  [
    "Trustee SEV-SNP debug guest",
    () => earClaims({ tee: "snp", debug: true }),
    ok({ ...SNP, debug: true }),
  ],
  [
    'Trustee az-snp-vtpm writes "1"',
    () =>
      withEvidence(
        (evidence) => {
          evidence["azsnpvtpm"] = { ...(evidence["snp"] as Payload), policy_debug_allowed: "1" };
          delete evidence["snp"];
        },
        earClaims({ tee: "snp" }),
      ),
    ok({ ...SNP, debug: true }),
  ],
  [
    "Trustee SEV-SNP debug as a JSON boolean",
    () =>
      withEvidence(
        (e) => ((e["snp"] as Payload)["policy_debug_allowed"] = false),
        earClaims({ tee: "snp" }),
      ),
    ok(SNP),
  ],
  [
    'Trustee SEV-SNP debug as "yes"',
    () =>
      withEvidence(
        (e) => ((e["snp"] as Payload)["policy_debug_allowed"] = "yes"),
        earClaims({ tee: "snp" }),
      ),
    problem(
      `${ANNOTATED}.snp.policy_debug_allowed: expected a boolean or one of "true", "false", "1", "0"`,
    ),
  ],
  [
    "Trustee SEV-SNP measurement written as hex",
    () =>
      withEvidence(
        (e) => ((e["snp"] as Payload)["measurement"] = SNP_MEASUREMENT),
        earClaims({ tee: "snp" }),
      ),
    ok(SNP),
  ],
  [
    "Trustee SEV-SNP measurement of the wrong size",
    () =>
      withEvidence((e) => ((e["snp"] as Payload)["measurement"] = RIM), earClaims({ tee: "snp" })),
    problem(`${ANNOTATED}.snp.measurement: expected 48 bytes as hex or canonical base64`),
  ],
  ["Trustee TDX guest", () => earClaims({ tee: "tdx" }), ok(TDX)],
  [
    "Trustee TDX debug TD",
    () => earClaims({ tee: "tdx", debug: true }),
    ok({ ...TDX, debug: true }),
  ],
  [
    'Trustee TDX debug as "false"',
    () =>
      withEvidence(
        (e) => (((e["tdx"] as Payload)["td_attributes"] as Payload)["debug"] = "false"),
        earClaims({ tee: "tdx" }),
      ),
    problem(`${ANNOTATED}.tdx.td_attributes.debug: expected a boolean, got a string`),
  ],
  [
    "Trustee az-tdx-vtpm",
    () =>
      withEvidence(
        (evidence) => {
          evidence["aztdxvtpm"] = { ...(evidence["tdx"] as Payload), tpm: { pcr00: "00" } };
          delete evidence["tdx"];
        },
        earClaims({ tee: "tdx" }),
      ),
    ok(TDX),
  ],
  [
    "an unread TEE (sgx) leaves platform and measurement absent",
    () =>
      withEvidence((evidence) => {
        evidence["sgx"] = { body: { mr_enclave: RIM } };
        delete evidence["cca"];
      }),
    ok(NO_TEE),
  ],
  [
    "evidence of two TEEs in one appraisal",
    () => withEvidence((evidence) => (evidence["snp"] = { measurement: SNP_MEASUREMENT })),
    problem(
      `${ANNOTATED}.snp, ${ANNOTATED}.cca: evidence of more than one TEE: which one the token is about is ambiguous`,
    ),
  ],
  [
    "evidence of two TEEs in two appraisals",
    () => {
      const token = trustee();
      (token["submods"] as Payload)["cpu1"] = (earClaims({ tee: "tdx" })["submods"] as Payload)[
        "cpu0"
      ];
      return token;
    },
    problem(
      `${ANNOTATED}.cca, submods.cpu1.ear.veraison.annotated-evidence.tdx: evidence of more than one TEE: which one the token is about is ambiguous`,
    ),
  ],
  // Trustee's current layout
  ["current layout, TDX", () => currentLayout("tdx", tdxEvidence()), ok(TDX)],
  [
    "current layout, a TEE not read",
    () => currentLayout("sgx", { body: { mr_enclave: RIM } }),
    ok(NO_TEE),
  ],
  [
    "current layout, TDX without claims",
    () => currentLayout("tdx", undefined),
    problem('submods.cpu0.ear_attester_claims.claims: missing for tee "tdx"'),
  ],
  [
    "current layout, tee as a number",
    () => currentLayout(5 as unknown as string, {}),
    problem("submods.cpu0.ear_attester_claims.tee: expected a string, got a number"),
  ],
  // nonce
  ["eat_nonce", () => earClaims({ nonce: "n-0123456789" }), ok({ ...CCA, nonce: "n-0123456789" })],
  [
    "eat_nonce in an appraisal agreeing with the top-level one",
    () =>
      withCpu0(
        earClaims({ nonce: "n-0123456789" }),
        (cpu0) => (cpu0["eat_nonce"] = ["n-0123456789"]),
      ),
    ok({ ...CCA, nonce: "n-0123456789" }),
  ],
  [
    "eat_nonce in an appraisal contradicting the top-level one",
    () =>
      withCpu0(
        earClaims({ nonce: "n-0123456789" }),
        (cpu0) => (cpu0["eat_nonce"] = "n-9876543210"),
      ),
    problem("eat_nonce, submods.cpu0.eat_nonce: the token echoes different nonces"),
  ],
  ["payload null", () => null, problem("payload: expected an object, got null")],
];

/** Trustee's TDX claims, as the builder writes them. */
function tdxEvidence(): Payload {
  const cpu0 = (earClaims({ tee: "tdx" })["submods"] as Payload)["cpu0"] as Payload;
  return (cpu0["ear.veraison.annotated-evidence"] as Payload)["tdx"] as Payload;
}

describe("veraison-ear profile", () => {
  it.each(ROWS)("%s", (_name, payload, expected) => {
    expect(profile(payload())).toStrictEqual(expected);
  });

  it("does not read Trustee's KBS challenge (runtime_data_claims.nonce) as the nonce", () => {
    const evidence = ((trustee()["submods"] as Payload)["cpu0"] as Payload)[
      "ear.veraison.annotated-evidence"
    ] as Payload;
    expect(evidence["runtime_data_claims"]).toHaveProperty("nonce");
    expect(profile(trustee())).toStrictEqual(ok(CCA));
  });

  it("the support builder's overrides land where the profile reads them", () => {
    const rim = "ab".repeat(48);
    expect(
      profile(earClaims({ measurement: rim, status: "warning", nonce: "n-12345678" })),
    ).toStrictEqual(ok({ ...CCA, measurement: rim, tcbStatus: "warning", nonce: "n-12345678" }));
  });
});
