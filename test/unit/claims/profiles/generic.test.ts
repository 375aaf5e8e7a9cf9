import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type { ConfigProblem } from "../../../../src/config/config-problem.js";
import type {
  AttestationProfile,
  ProfiledTee,
  ProfileOutcome,
} from "../../../../src/claims/profiles/attestation-profile.js";
import { compileGenericProfile } from "../../../../src/claims/profiles/generic.js";
import { readVectorJson } from "../../../support/attestation-claims.js";

type Payload = Record<string, unknown>;

const AT = "issuers[1].claims";
const KEYS = "platform, measurement, debug, tcbStatus, svn, nonce";
const PCR0 =
  "a3f1c2d4e5b6978812aa34bc56de78f09a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e9f";

function compile(mapping: unknown): AttestationProfile {
  const { profile, problems } = compileGenericProfile(mapping, AT);
  if (profile === undefined) throw new Error(JSON.stringify(problems));
  return profile;
}

type CompileRow = readonly [name: string, mapping: unknown, problems: readonly ConfigProblem[]];

const COMPILE_ROWS: readonly CompileRow[] = [
  [
    "a mapping that is not an object",
    "tee.mrtd",
    [{ path: AT, message: `must be a mapping from tee attributes (${KEYS}) to claim paths` }],
  ],
  [
    "a list",
    ["platform"],
    [{ path: AT, message: `must be a mapping from tee attributes (${KEYS}) to claim paths` }],
  ],
  [
    "null",
    null,
    [{ path: AT, message: `must be a mapping from tee attributes (${KEYS}) to claim paths` }],
  ],
  [
    "an empty mapping",
    {},
    [{ path: AT, message: `maps no attribute: name the claim of at least one of ${KEYS}` }],
  ],
  [
    "an unknown key",
    { platfrom: "tee.kind" },
    [{ path: `${AT}.platfrom`, message: `unknown key (expected one of ${KEYS})` }],
  ],
  [
    "an attribute verigate computes itself",
    { age: "iat" },
    [{ path: `${AT}.age`, message: `unknown key (expected one of ${KEYS})` }],
  ],
  [
    "a path that is not a string",
    { debug: true },
    [
      {
        path: `${AT}.debug`,
        message: "must be a dotted claim path (a non-empty string such as tee.measurement)",
      },
    ],
  ],
  [
    "an empty path",
    { svn: "" },
    [
      {
        path: `${AT}.svn`,
        message: "must be a dotted claim path (a non-empty string such as tee.measurement)",
      },
    ],
  ],
  [
    "a path with an empty segment",
    { measurement: "tee..mrtd" },
    [
      {
        path: `${AT}.measurement`,
        message: 'has an empty segment (check for "..", or a leading or trailing ".")',
      },
    ],
  ],
  [
    "a path with a trailing dot",
    { measurement: "tee.mrtd." },
    [
      {
        path: `${AT}.measurement`,
        message: 'has an empty segment (check for "..", or a leading or trailing ".")',
      },
    ],
  ],
  [
    "a path with a control character",
    { nonce: "tee.\nnonce" },
    [{ path: `${AT}.nonce`, message: "holds a control character" }],
  ],
  [
    "a path too long",
    { nonce: "a.".repeat(128) + "b" },
    [{ path: `${AT}.nonce`, message: "is longer than 256 characters" }],
  ],
  [
    "every problem at once, in order",
    { platfrom: "tee.kind", debug: 1, measurement: "tee.pcrs.0" },
    [
      { path: `${AT}.platfrom`, message: `unknown key (expected one of ${KEYS})` },
      {
        path: `${AT}.debug`,
        message: "must be a dotted claim path (a non-empty string such as tee.measurement)",
      },
    ],
  ],
];

/** A token of a vendor without a built-in profile. */
const token = (): Payload => ({
  attestation: {
    kind: "Nitro",
    pcrs: [PCR0, "00".repeat(48)],
    debug_mode: false,
    status: "Verified",
    module_version: 4,
  },
  "runtime-data": { challenge: "c-0123456789" },
});

const MAPPING = {
  platform: "attestation.kind",
  measurement: "attestation.pcrs.0",
  debug: "attestation.debug_mode",
  tcbStatus: "attestation.status",
  svn: "attestation.module_version",
  nonce: "runtime-data.challenge",
};

const MAPPED: ProfiledTee = {
  platform: "nitro",
  measurement: PCR0,
  debug: false,
  tcbStatus: "Verified",
  svn: 4,
  nonce: "c-0123456789",
};

/** The token with `attestation` changed. */
function withAttestation(changes: Payload): Payload {
  const t = token();
  return { ...t, attestation: { ...(t["attestation"] as Payload), ...changes } };
}

const ok = (tee: ProfiledTee): ProfileOutcome => ({ ok: true, tee });
const problem = (text: string): ProfileOutcome => ({ ok: false, problem: text });

type ProfileRow = readonly [
  name: string,
  mapping: Payload,
  payload: () => unknown,
  expected: ProfileOutcome,
];

const PROFILE_ROWS: readonly ProfileRow[] = [
  ["every attribute mapped", MAPPING, token, ok(MAPPED)],
  [
    "only some attributes mapped",
    { measurement: MAPPING.measurement },
    token,
    ok({
      ...MAPPED,
      platform: undefined,
      debug: undefined,
      tcbStatus: undefined,
      svn: undefined,
      nonce: undefined,
    }),
  ],
  [
    "absent claims leave their attributes absent",
    MAPPING,
    () => ({ attestation: {} }),
    ok({
      platform: undefined,
      measurement: undefined,
      debug: undefined,
      tcbStatus: undefined,
      svn: undefined,
      nonce: undefined,
    }),
  ],
  [
    "debug on",
    MAPPING,
    () => withAttestation({ debug_mode: true }),
    ok({ ...MAPPED, debug: true }),
  ],
  [
    'debug as "false" is a problem, not false',
    MAPPING,
    () => withAttestation({ debug_mode: "false" }),
    problem("attestation.debug_mode (tee.debug): expected a boolean, got a string"),
  ],
  [
    "debug as null",
    MAPPING,
    () => withAttestation({ debug_mode: null }),
    problem("attestation.debug_mode (tee.debug): expected a boolean, got null"),
  ],
  [
    "uppercase measurement is lowercased",
    MAPPING,
    () => withAttestation({ pcrs: [PCR0.toUpperCase()] }),
    ok(MAPPED),
  ],
  [
    "base64 measurement is not guessed at",
    MAPPING,
    () => withAttestation({ pcrs: [Buffer.from(PCR0, "hex").toString("base64")] }),
    problem(
      "attestation.pcrs.0 (tee.measurement): expected hex digits (an even number of 0-9 a-f)",
    ),
  ],
  [
    "measurement longer than 128 bytes",
    MAPPING,
    () => withAttestation({ pcrs: ["ab".repeat(129)] }),
    problem("attestation.pcrs.0 (tee.measurement): expected at most 128 bytes"),
  ],
  [
    "svn as a numeric string",
    MAPPING,
    () => withAttestation({ module_version: "4" }),
    problem("attestation.module_version (tee.svn): expected a non-negative integer, got a string"),
  ],
  [
    "platform lowercased",
    MAPPING,
    () => withAttestation({ kind: "SEV-SNP" }),
    ok({ ...MAPPED, platform: "sev-snp" }),
  ],
  [
    "platform with a space",
    MAPPING,
    () => withAttestation({ kind: "AWS Nitro" }),
    problem("attestation.kind (tee.platform): expected a platform name (1-64 of a-z 0-9 . _ -)"),
  ],
  [
    "tcbStatus with a line break",
    MAPPING,
    () => withAttestation({ status: "ok\r\nx-injected: 1" }),
    problem(
      "attestation.status (tee.tcbStatus): expected a status word (1-64 of A-Z a-z 0-9 . _ : -)",
    ),
  ],
  [
    "nonce as an object",
    MAPPING,
    () => ({ ...token(), "runtime-data": { challenge: { val: "c" } } }),
    problem("runtime-data.challenge (tee.nonce): expected a string, got an object"),
  ],
  [
    "an index past the end",
    { measurement: "attestation.pcrs.2" },
    token,
    ok({
      platform: undefined,
      measurement: undefined,
      debug: undefined,
      tcbStatus: undefined,
      svn: undefined,
      nonce: undefined,
    }),
  ],
  [
    "a non-canonical index reads nothing",
    { measurement: "attestation.pcrs.00" },
    token,
    ok({
      platform: undefined,
      measurement: undefined,
      debug: undefined,
      tcbStatus: undefined,
      svn: undefined,
      nonce: undefined,
    }),
  ],
  [
    "an array's length is not a claim",
    { svn: "attestation.pcrs.length" },
    token,
    ok({
      platform: undefined,
      measurement: undefined,
      debug: undefined,
      tcbStatus: undefined,
      svn: undefined,
      nonce: undefined,
    }),
  ],
  [
    "inherited properties are not claims",
    { platform: "attestation.constructor.name", nonce: "__proto__.toString" },
    token,
    ok({
      platform: undefined,
      measurement: undefined,
      debug: undefined,
      tcbStatus: undefined,
      svn: undefined,
      nonce: undefined,
    }),
  ],
  [
    "an own __proto__ claim (from JSON) is read",
    { platform: "__proto__.kind" },
    () => JSON.parse('{"__proto__": {"kind": "TDX"}}') as unknown,
    ok({
      platform: "tdx",
      measurement: undefined,
      debug: undefined,
      tcbStatus: undefined,
      svn: undefined,
      nonce: undefined,
    }),
  ],
  [
    "a real MAA token read through a mapping",
    {
      platform: "x-ms-attestation-type",
      measurement: "x-ms-sevsnpvm-launchmeasurement",
      debug: "x-ms-sevsnpvm-is-debuggable",
      svn: "x-ms-sevsnpvm-guestsvn",
      nonce: "x-ms-runtime.client-payload.nonce",
    },
    () => readVectorJson("jwt/maa/maa-sevsnpvm-claims.sample.json"),
    ok({
      platform: "sevsnpvm",
      measurement:
        "04a170f39a3f702472ed0c7ecbda9babfc530e3caac475fdd607ff499177d14c278c5a15ad07ceacd5230ae63d507e9d",
      debug: false,
      tcbStatus: undefined,
      svn: 1,
      nonce: undefined,
    }),
  ],
  ["payload not an object", MAPPING, () => 42, problem("payload: expected an object")],
];

describe("generic profile", () => {
  it.each(COMPILE_ROWS)("config problem: %s", (_name, mapping, problems) => {
    expect(compileGenericProfile(mapping, AT)).toStrictEqual({ problems });
  });

  it("compiles a valid mapping without problems", () => {
    const { profile, problems } = compileGenericProfile(MAPPING, AT);
    expect(problems).toEqual([]);
    expect(typeof profile).toBe("function");
  });

  it("does not keep a reference to the mapping it compiled", () => {
    const mapping: Payload = { ...MAPPING };
    const profile = compile(mapping);
    mapping["measurement"] = "attestation.pcrs.1";
    expect(profile(token() as JWTPayload)).toStrictEqual(ok(MAPPED));
  });

  it.each(PROFILE_ROWS)("%s", (_name, mapping, payload, expected) => {
    expect(compile(mapping)(payload() as JWTPayload)).toStrictEqual(expected);
  });
});
