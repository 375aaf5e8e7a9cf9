import type { JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type {
  ProfiledTee,
  ProfileOutcome,
} from "../../../../src/claims/profiles/attestation-profile.js";
import { azureMaaProfile } from "../../../../src/claims/profiles/azure-maa.js";
import { readVectorJson } from "../../../support/attestation-claims.js";

type Payload = Record<string, unknown>;

const SNP_MEASUREMENT =
  "04a170f39a3f702472ed0c7ecbda9babfc530e3caac475fdd607ff499177d14c278c5a15ad07ceacd5230ae63d507e9d";
const MRTD =
  "5be56d418d33661a6c21da77c9503a07e430b35eb92a0bd042a6b3c4e79b3c82bb1c594e770d0d129a0724669f1e953f";
const MRENCLAVE = "d37d983a85d63fb49649610e2eba0930ecdbff6d113aca3ff3fc7261696c0134";

/** The published MAA SEV-SNP claim set, read afresh. */
const sevsnp = (): Payload => readVectorJson("jwt/maa/maa-sevsnpvm-claims.sample.json");
/** The published MAA TDX claim set, read afresh. */
const tdxvm = (): Payload => readVectorJson("jwt/maa/maa-tdxvm-claims.sample.json");

/** An MAA SGX token (the shape of Microsoft's SGX sample, `x-ms-sgx-*` claims). */
const sgx = (): Payload => ({
  "x-ms-attestation-type": "sgx",
  "x-ms-policy-hash": "OwEvpSVEWA5eisCEncBt8NSZFLYDRKoLaoONPrZgoeY",
  "x-ms-sgx-is-debuggable": false,
  "x-ms-sgx-mrenclave": MRENCLAVE,
  "x-ms-sgx-mrsigner": "feb995eb86c349ac98e5afbbb5732ca7376ec9979002702ea17ad476e0853a04",
  "x-ms-sgx-product-id": 1,
  "x-ms-sgx-svn": 8888,
  "x-ms-ver": "1.0",
});

/** An Azure CVM guest attestation token (`azurevm`) wrapping `tee` as `x-ms-isolation-tee`. */
function azurevm(tee: Payload, nonce?: string): Payload {
  const { "x-ms-runtime": hclRuntime, ...teeClaims } = tee;
  return {
    secureboot: true,
    "x-ms-attestation-type": "azurevm",
    "x-ms-azurevm-attestation-protocol-ver": "2.0",
    "x-ms-azurevm-bootdebug-enabled": false,
    "x-ms-azurevm-debuggersdisabled": true,
    "x-ms-azurevm-kerneldebug-enabled": false,
    "x-ms-azurevm-osdistro": "Ubuntu",
    "x-ms-isolation-tee": { ...teeClaims, "x-ms-runtime": hclRuntime },
    "x-ms-runtime": {
      ...(nonce === undefined ? {} : { "client-payload": { nonce } }),
      keys: [{ kid: "TpmEphemeralEncryptionKey", kty: "RSA", e: "AQAB", n: "p5ui" }],
    },
    "x-ms-ver": "1.0",
  };
}

const profile = (payload: unknown): ProfileOutcome => azureMaaProfile(payload as JWTPayload);

const SNP: ProfiledTee = {
  platform: "sev-snp",
  measurement: SNP_MEASUREMENT,
  debug: false,
  tcbStatus: "azure-compliant-cvm",
  svn: 1,
  nonce: undefined,
};
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
  tcbStatus: undefined,
  svn: 8888,
  nonce: undefined,
};

const ok = (tee: ProfiledTee): ProfileOutcome => ({ ok: true, tee });
const problem = (text: string): ProfileOutcome => ({ ok: false, problem: text });

type Row = readonly [name: string, payload: () => unknown, expected: ProfileOutcome];

const ROWS: readonly Row[] = [
  // sevsnpvm
  ["sevsnpvm as published", sevsnp, ok(SNP)],
  [
    "sevsnpvm debuggable",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-is-debuggable": true }),
    ok({ ...SNP, debug: true }),
  ],
  [
    "sevsnpvm uppercase measurement is lowercased",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-launchmeasurement": SNP_MEASUREMENT.toUpperCase() }),
    ok(SNP),
  ],
  [
    "sevsnpvm without a measurement",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-launchmeasurement": undefined }),
    ok({ ...SNP, measurement: undefined }),
  ],
  [
    "sevsnpvm without debug claim says nothing about debug",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-is-debuggable": undefined }),
    ok({ ...SNP, debug: undefined }),
  ],
  [
    "sevsnpvm without compliance status",
    () => ({ ...sevsnp(), "x-ms-compliance-status": undefined }),
    ok({ ...SNP, tcbStatus: undefined }),
  ],
  [
    "sevsnpvm measurement as a number",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-launchmeasurement": 4 }),
    problem("x-ms-sevsnpvm-launchmeasurement: expected a string, got a number"),
  ],
  [
    "sevsnpvm measurement not hex",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-launchmeasurement": `zz${SNP_MEASUREMENT.slice(2)}` }),
    problem("x-ms-sevsnpvm-launchmeasurement: expected hex digits (an even number of 0-9 a-f)"),
  ],
  [
    "sevsnpvm measurement base64 instead of hex",
    () => ({
      ...sevsnp(),
      "x-ms-sevsnpvm-launchmeasurement": Buffer.from(SNP_MEASUREMENT, "hex").toString("base64"),
    }),
    problem("x-ms-sevsnpvm-launchmeasurement: expected hex digits (an even number of 0-9 a-f)"),
  ],
  [
    "sevsnpvm measurement of 32 bytes",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-launchmeasurement": SNP_MEASUREMENT.slice(0, 64) }),
    problem("x-ms-sevsnpvm-launchmeasurement: expected 48 bytes, got 32"),
  ],
  [
    'sevsnpvm debug as the string "false"',
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-is-debuggable": "false" }),
    problem("x-ms-sevsnpvm-is-debuggable: expected a boolean, got a string"),
  ],
  [
    "sevsnpvm debug as 0",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-is-debuggable": 0 }),
    problem("x-ms-sevsnpvm-is-debuggable: expected a boolean, got a number"),
  ],
  [
    'sevsnpvm guest SVN as "1"',
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-guestsvn": "1" }),
    problem("x-ms-sevsnpvm-guestsvn: expected a non-negative integer, got a string"),
  ],
  [
    "sevsnpvm guest SVN negative",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-guestsvn": -1 }),
    problem("x-ms-sevsnpvm-guestsvn: expected a non-negative integer"),
  ],
  [
    "sevsnpvm guest SVN fractional",
    () => ({ ...sevsnp(), "x-ms-sevsnpvm-guestsvn": 1.5 }),
    problem("x-ms-sevsnpvm-guestsvn: expected a non-negative integer"),
  ],
  [
    "sevsnpvm compliance status with a line break",
    () => ({ ...sevsnp(), "x-ms-compliance-status": "azure-compliant-cvm\r\nx: 1" }),
    problem("x-ms-compliance-status: expected a status word (1-64 of A-Z a-z 0-9 . _ : -)"),
  ],
  // tdxvm
  ["tdxvm as published", tdxvm, ok(TDX)],
  [
    "tdxvm debug TD",
    () => ({ ...tdxvm(), tdx_td_attributes_debug: true, dbgstat: "enabled" }),
    ok({ ...TDX, debug: true }),
  ],
  [
    "tdxvm dbgstat enabled wins over a false attribute (fails closed)",
    () => ({ ...tdxvm(), dbgstat: "enabled" }),
    ok({ ...TDX, debug: true }),
  ],
  ["tdxvm with only dbgstat", () => ({ ...tdxvm(), tdx_td_attributes_debug: undefined }), ok(TDX)],
  [
    "tdxvm with no debug claim",
    () => ({ ...tdxvm(), tdx_td_attributes_debug: undefined, dbgstat: undefined }),
    ok({ ...TDX, debug: undefined }),
  ],
  [
    "tdxvm unknown dbgstat",
    () => ({ ...tdxvm(), dbgstat: "sometimes" }),
    problem('dbgstat: unknown debug status "sometimes"'),
  ],
  [
    'tdxvm debug attribute as "true"',
    () => ({ ...tdxvm(), tdx_td_attributes_debug: "true" }),
    problem("tdx_td_attributes_debug: expected a boolean, got a string"),
  ],
  [
    "tdxvm without MRTD",
    () => ({ ...tdxvm(), tdx_mrtd: undefined }),
    ok({ ...TDX, measurement: undefined }),
  ],
  [
    "tdxvm out-of-date TCB",
    () => ({ ...tdxvm(), attester_tcb_status: "OutOfDate" }),
    ok({ ...TDX, tcbStatus: "OutOfDate" }),
  ],
  // sgx
  ["sgx enclave", sgx, ok(SGX)],
  [
    "sgx debuggable enclave",
    () => ({ ...sgx(), "x-ms-sgx-is-debuggable": true }),
    ok({ ...SGX, debug: true }),
  ],
  [
    "sgx legacy unprefixed claims are not read",
    () => ({
      "x-ms-attestation-type": "sgx",
      "sgx-mrenclave": MRENCLAVE,
      "is-debuggable": false,
      svn: 1,
    }),
    ok({ ...SGX, measurement: undefined, debug: undefined, svn: undefined }),
  ],
  [
    "sgx MRENCLAVE of 48 bytes",
    () => ({ ...sgx(), "x-ms-sgx-mrenclave": SNP_MEASUREMENT }),
    problem("x-ms-sgx-mrenclave: expected 32 bytes, got 48"),
  ],
  // azurevm
  ["azurevm around sevsnpvm", () => azurevm(sevsnp()), ok(SNP)],
  ["azurevm around tdxvm", () => azurevm(tdxvm()), ok(TDX)],
  [
    "azurevm around a debuggable SEV-SNP guest",
    () => azurevm({ ...sevsnp(), "x-ms-sevsnpvm-is-debuggable": true }),
    ok({ ...SNP, debug: true }),
  ],
  [
    "azurevm guest kernel debugging is not TEE debug",
    () => ({ ...azurevm(sevsnp()), "x-ms-azurevm-kerneldebug-enabled": true }),
    ok(SNP),
  ],
  [
    "azurevm nonce from the client payload",
    () => azurevm(sevsnp(), "MTIzNA=="),
    ok({ ...SNP, nonce: "MTIzNA==" }),
  ],
  [
    "azurevm wrongly typed nested debug",
    () => azurevm({ ...sevsnp(), "x-ms-sevsnpvm-is-debuggable": "no" }),
    problem("x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable: expected a boolean, got a string"),
  ],
  [
    "azurevm without isolation TEE",
    () => ({ ...azurevm(sevsnp()), "x-ms-isolation-tee": undefined }),
    problem("x-ms-isolation-tee: missing from an azurevm token"),
  ],
  [
    "azurevm isolation TEE not an object",
    () => ({ ...azurevm(sevsnp()), "x-ms-isolation-tee": "sevsnpvm" }),
    problem("x-ms-isolation-tee: expected an object, got a string"),
  ],
  [
    "azurevm nesting sgx",
    () => azurevm(sgx()),
    problem('x-ms-isolation-tee.x-ms-attestation-type: unsupported isolation type "sgx"'),
  ],
  [
    "azurevm nesting azurevm",
    () => azurevm(azurevm(sevsnp())),
    problem('x-ms-isolation-tee.x-ms-attestation-type: unsupported isolation type "azurevm"'),
  ],
  [
    "azurevm isolation TEE without type",
    () => azurevm({ ...sevsnp(), "x-ms-attestation-type": undefined }),
    problem("x-ms-isolation-tee.x-ms-attestation-type: missing"),
  ],
  // attestation type
  [
    "unknown attestation type",
    () => ({ ...sevsnp(), "x-ms-attestation-type": "sevvm" }),
    problem('x-ms-attestation-type: unknown attestation type "sevvm"'),
  ],
  [
    "attestation type of another case",
    () => ({ ...sevsnp(), "x-ms-attestation-type": "SevSnpVm" }),
    problem('x-ms-attestation-type: unknown attestation type "SevSnpVm"'),
  ],
  [
    "no attestation type",
    () => ({ ...sevsnp(), "x-ms-attestation-type": undefined }),
    problem("x-ms-attestation-type: missing"),
  ],
  [
    "attestation type as an array",
    () => ({ ...sevsnp(), "x-ms-attestation-type": ["sevsnpvm"] }),
    problem("x-ms-attestation-type: expected a string, got an array"),
  ],
  [
    "inherited claims are not read",
    () => Object.create(sevsnp()) as unknown,
    problem("x-ms-attestation-type: missing"),
  ],
  ["payload null", () => null, problem("payload: expected an object, got null")],
  // nonce
  [
    "nonce echoed by the service",
    () => ({ ...sevsnp(), nonce: "n-0123456789" }),
    ok({ ...SNP, nonce: "n-0123456789" }),
  ],
  [
    "nonce in the runtime data",
    () => ({ ...tdxvm(), "x-ms-runtime": { nonce: "n-0123456789" } }),
    ok({ ...TDX, nonce: "n-0123456789" }),
  ],
  [
    "nonce in the runtime client payload, agreeing with the service's",
    () => ({
      ...tdxvm(),
      nonce: "n-0123456789",
      "x-ms-runtime": { "client-payload": { nonce: "n-0123456789" } },
    }),
    ok({ ...TDX, nonce: "n-0123456789" }),
  ],
  [
    "two different nonces",
    () => ({
      ...tdxvm(),
      nonce: "n-0123456789",
      "x-ms-runtime": { "client-payload": { nonce: "n-9876543210" } },
    }),
    problem("nonce, x-ms-runtime.client-payload.nonce: the token echoes different nonces"),
  ],
  [
    "an empty nonce is no nonce",
    () => ({ ...tdxvm(), "x-ms-runtime": { "client-payload": { nonce: "" } } }),
    ok(TDX),
  ],
  [
    "nonce as a number",
    () => ({ ...sevsnp(), nonce: 1234 }),
    problem("nonce: expected a string, got a number"),
  ],
  [
    "nonce with a control character",
    () => ({ ...sevsnp(), nonce: "abc\ndef" }),
    problem("nonce: expected a nonce of 1-1024 printable ASCII characters"),
  ],
  [
    "runtime data not an object",
    () => ({ ...sevsnp(), "x-ms-runtime": "keys" }),
    problem("x-ms-runtime: expected an object, got a string"),
  ],
  [
    "client payload not an object",
    () => ({ ...sevsnp(), "x-ms-runtime": { "client-payload": [] } }),
    problem("x-ms-runtime.client-payload: expected an object, got an array"),
  ],
  [
    "azurevm nonces must agree across both runtime objects",
    () => {
      const token = azurevm(sevsnp(), "n-0123456789");
      const tee = token["x-ms-isolation-tee"] as Payload;
      tee["x-ms-runtime"] = { "client-payload": { nonce: "n-other-nonce" } };
      return token;
    },
    problem(
      "x-ms-runtime.client-payload.nonce, x-ms-isolation-tee.x-ms-runtime.client-payload.nonce: the token echoes different nonces",
    ),
  ],
];

describe("azure-maa profile", () => {
  it.each(ROWS)("%s", (_name, payload, expected) => {
    expect(profile(payload())).toStrictEqual(expected);
  });

  it("returns a frozen result", () => {
    const outcome = profile(sevsnp());
    expect(outcome.ok && Object.isFrozen(outcome.tee)).toBe(true);
  });
});
