import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../../src/policy/compile-policy.js";
import { makeClaims } from "./claims-fixture.js";

const CTX = { path: "routes[0].policy", route: "r", lists: new Map([["ok", ["aa"]]]) };

function reasonsFor(policy: unknown, claims: Parameters<typeof makeClaims>[0]): readonly string[] {
  const compiled = compilePolicy(policy, CTX).policy;
  if (compiled === undefined) throw new Error("policy does not compile");
  const decision = compiled.evaluate(makeClaims(claims));
  expect(compiled.explain(makeClaims(claims)).reasons).toEqual(decision.reasons);
  return decision.reasons;
}

const TEE = {
  platform: "sev-snp",
  measurement: "aa",
  debug: false,
  tcbStatus: "UpToDate",
  age: 1000,
  boundToClientCert: true,
};

describe("specific reasons of a deny", () => {
  it.each([
    [
      { "tee.debug": false },
      { ...TEE, debug: true },
      ["no-matching-rule", "attestation-debug-enabled"],
    ],
    [
      { "tee.measurement": { inList: "ok" } },
      { ...TEE, measurement: "bb" },
      ["no-matching-rule", "measurement-not-allowed"],
    ],
    [
      { "tee.tcbStatus": "UpToDate" },
      { ...TEE, tcbStatus: "OutOfDate" },
      ["no-matching-rule", "tcb-out-of-date"],
    ],
    [
      { "tee.age": { lt: "5m" } },
      { ...TEE, age: 600_000 },
      ["no-matching-rule", "attestation-stale"],
    ],
    [{ "tee.platform": { in: ["tdx"] } }, TEE, ["no-matching-rule", "tee-platform-not-allowed"]],
    [
      { "tee.boundToClientCert": true },
      { ...TEE, boundToClientCert: false },
      ["no-matching-rule", "token-not-bound"],
    ],
    [
      { "tee.issuer": "maa" },
      { ...TEE, issuer: "other" },
      ["no-matching-rule", "attestation-failed"],
    ],
    [{ "tee.debug": false }, undefined, ["no-matching-rule", "attestation-missing"]],
  ])("allow %j over tee %j gives %j", (rule, tee, expected) => {
    expect(reasonsFor({ allow: [rule] }, tee === undefined ? {} : { tee })).toEqual(expected);
  });

  it.each([
    [{ "device.managed": true }, { managed: false }, ["no-matching-rule", "posture-failed"]],
    [
      { "device.age": { lt: "1h" } },
      { managed: true, age: 7_200_000 },
      ["no-matching-rule", "posture-stale"],
    ],
    [{ "device.managed": true }, undefined, ["no-matching-rule", "posture-missing"]],
  ])("allow %j over device %j gives %j", (rule, device, expected) => {
    expect(reasonsFor({ allow: [rule] }, device === undefined ? {} : { device })).toEqual(expected);
  });

  it("names the criteria responsible through `not`, in deny and allow rules", () => {
    const debugTee = { tee: { ...TEE, debug: true } };
    expect(
      reasonsFor(
        { allow: [{ "identity.source": "none" }], deny: [{ not: { "tee.debug": false } }] },
        debugTee,
      ),
    ).toEqual(["denied-by-rule", "attestation-debug-enabled"]);
    expect(reasonsFor({ allow: [{ not: { "tee.debug": true } }] }, debugTee)).toEqual([
      "no-matching-rule",
      "attestation-debug-enabled",
    ]);
  });

  it("gives no specific reason for identity and request criteria, and one of each kind at most", () => {
    expect(
      reasonsFor(
        {
          allow: [
            { "identity.commonName": "x", "tee.debug": false },
            { "tee.debug": false, "request.method": "PUT" },
          ],
        },
        { tee: { ...TEE, debug: true } },
      ),
    ).toEqual(["no-matching-rule", "attestation-debug-enabled"]);
  });
});
