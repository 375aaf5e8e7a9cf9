import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Claims } from "../../../src/claims/claims.js";
import { ATTRIBUTES } from "../../../src/policy/attributes.js";
import { compilePolicy } from "../../../src/policy/compile-policy.js";
import type { CompiledPolicy, PolicyContext } from "../../../src/policy/compile-policy.js";
import { OPERATORS } from "../../../src/policy/operators.js";

const CTX: PolicyContext = {
  path: "routes[0].policy",
  route: "r",
  lists: new Map([["payroll-v3", ["5c1e", "9ab0"]]]),
};

const ATTRIBUTE_NAMES = [
  ...Object.keys(ATTRIBUTES),
  "tee.claims.a",
  "device.claims.a.b",
  "tee.measurment",
];

/** Operands that are valid for some operator, mixed with arbitrary JSON. */
const operand = fc.oneof(
  fc.constantFrom(
    "5m",
    "14.2.1",
    "10.0.0.0/8",
    "::1",
    "2025-01-01T00:00:00Z",
    "payroll-v3",
    "finance",
    "(",
    ".*",
  ),
  fc.constantFrom(true, false, 0, 3, -1, 14.1),
  fc.array(fc.constantFrom("sev-snp", "tdx", "10.0.0.1", "13", 1)),
  fc.jsonValue({ maxDepth: 2 }),
);

const criterion = fc.oneof(
  operand,
  fc.dictionary(fc.oneof(fc.constantFrom(...OPERATORS), fc.string()), operand, { maxKeys: 3 }),
);

/** Rule-shaped input: real attribute names and operators, nested any/all/not, and noise. */
const rule: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  rule: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.dictionary(fc.constantFrom(...ATTRIBUTE_NAMES), criterion, { maxKeys: 4 }),
    fc.record({ any: fc.array(tie("rule"), { maxLength: 3 }) }),
    fc.record({ all: fc.array(tie("rule"), { maxLength: 3 }) }),
    fc.record({ not: tie("rule") }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
})).rule;

const policyInput = fc.oneof(
  fc.record(
    { allow: fc.array(rule, { maxLength: 3 }), deny: fc.array(rule, { maxLength: 2 }) },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
  fc.anything(),
);

/** Criteria that compile, so that generated policies often compile too. */
const validCriterion = fc.constantFrom(
  ["identity.groups", { has: "finance" }],
  ["identity.groups", { hasAny: ["finance", "auditors"], prefix: "fin" }],
  ["identity.source", "certificate"],
  ["device.managed", true],
  ["device.osVersion", { gte: "14.2" }],
  ["tee.platform", { in: ["sev-snp", "tdx"] }],
  ["tee.platform", { notIn: ["sgx"], matches: "[a-z-]+" }],
  ["tee.measurement", { inList: "payroll-v3" }],
  ["tee.debug", { ne: true }],
  ["tee.age", { lt: "5m" }],
  ["tee.svn", { gte: 3 }],
  ["request.sourceIp", { cidr: "10.0.0.0/8" }],
  ["request.time", { gte: "2020-01-01T00:00:00Z" }],
  ["tee.claims.a", { present: true }],
  ["device.claims.a.b", { lt: 5 }],
  ["tee.claims.a", { has: "x", gte: "1.2" }],
);

const validRule: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  rule: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc
      .array(validCriterion, { minLength: 1, maxLength: 3 })
      .map((entries): unknown => Object.fromEntries(entries as [string, unknown][])),
    fc.record({ any: fc.array(tie("rule"), { minLength: 1, maxLength: 3 }) }),
    fc.record({ all: fc.array(tie("rule"), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie("rule") }),
  ),
})).rule;

const validPolicyInput = fc.record(
  { allow: fc.array(validRule, { maxLength: 3 }), deny: fc.array(validRule, { maxLength: 2 }) },
  { requiredKeys: [] },
);

/** A claims value of any type, often a plausible one. */
const claimValue = fc.oneof(
  fc.constantFrom("sev-snp", "5c1e", "10.0.0.1", "::ffff:10.0.0.1", "14.2.1", "finance", ""),
  fc.constantFrom(true, false, 0, 1000, Number.NaN, null, undefined),
  fc.array(fc.constantFrom("finance", "auditors", 5)),
  fc.anything({ maxDepth: 2 }),
);

/** Plausible values, so that rules sometimes match. */
const PLAUSIBLE: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  "identity.source": fc.constantFrom("certificate", "token", "none"),
  "identity.groups": fc.array(fc.constantFrom("finance", "auditors", "eng")),
  "device.managed": fc.boolean(),
  "device.osVersion": fc.constantFrom("14.2.1", "13", "14.10"),
  "tee.platform": fc.constantFrom("sev-snp", "tdx", "sgx"),
  "tee.measurement": fc.constantFrom("5c1e", "9ab0", "ffff"),
  "tee.debug": fc.boolean(),
  "tee.age": fc.nat(600_000),
  "tee.svn": fc.nat(6),
  "request.sourceIp": fc.constantFrom("10.0.0.1", "::ffff:10.0.0.2", "192.0.2.1", "::1"),
  "request.time": fc.integer({ min: 1_500_000_000_000, max: 1_800_000_000_000 }),
};

function section(prefix: string): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(ATTRIBUTES).filter((name) => name.startsWith(`${prefix}.`));
  const fields = Object.fromEntries(
    names.map((name) => {
      const plausible = PLAUSIBLE[name];
      const value = plausible === undefined ? claimValue : fc.oneof(plausible, claimValue);
      return [name.slice(prefix.length + 1), value];
    }),
  );
  const raw = fc.oneof(
    fc.record({ a: fc.oneof(claimValue, fc.record({ b: claimValue })) }),
    fc.dictionary(fc.constantFrom("a", "__proto__", "constructor"), claimValue),
  );
  return fc.record({ ...fields, claims: raw }, { requiredKeys: [] });
}

const claimsInput: fc.Arbitrary<unknown> = fc.oneof(
  fc.record(
    {
      identity: section("identity"),
      device: section("device"),
      tee: section("tee"),
      request: section("request"),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
  fc.anything(),
);

/** A policy that uses every attribute type and many operators. */
function broadPolicy(): CompiledPolicy {
  const { policy, problems } = compilePolicy(
    {
      allow: [
        {
          "identity.groups": { has: "finance", hasAll: ["finance"], prefix: "fin" },
          "device.managed": true,
          "device.osVersion": { gte: "14.2", ne: "15" },
          "tee.platform": { in: ["sev-snp", "tdx"], matches: "[a-z-]+" },
          "tee.measurement": { inList: "payroll-v3" },
          "tee.age": { lt: "5m" },
          "tee.svn": { gte: 3 },
          "request.sourceIp": { cidr: ["10.0.0.0/8", "::1/128"], ne: "10.0.0.2" },
          "request.time": { lt: "2999-01-01T00:00:00Z" },
        },
        {
          any: [{ "tee.claims.a": { present: true } }, { not: { "device.claims.a.b": { lt: 5 } } }],
        },
        {
          "tee.claims.a": {
            has: "x",
            prefix: "x",
            gte: "1.2",
            cidr: "10.0.0.0/8",
            notIn: [1, "a"],
          },
        },
      ],
      deny: [
        { "tee.debug": true },
        { "identity.source": "none", not: { "request.method": { in: ["GET", "HEAD"] } } },
      ],
    },
    CTX,
  );
  expect(problems).toEqual([]);
  if (policy === undefined) throw new Error("no policy");
  return policy;
}

describe("the policy compiler, on arbitrary input", () => {
  it("never throws: it returns a policy or problems, never both", () => {
    fc.assert(
      fc.property(policyInput, (raw) => {
        const { policy, problems } = compilePolicy(raw, CTX);
        expect(policy === undefined).toBe(problems.length > 0);
        for (const problem of problems) {
          expect(problem.path.startsWith("routes[0].policy")).toBe(true);
          expect(problem.message).not.toBe("");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("compiles policies whose evaluate and explain never throw and agree", () => {
    fc.assert(
      fc.property(fc.oneof(validPolicyInput, policyInput), claimsInput, (raw, claims) => {
        const { policy } = compilePolicy(raw, CTX);
        if (policy === undefined) return;
        const decision = policy.evaluate(claims as Claims);
        const explained = policy.explain(claims as Claims);
        expect([decision.effect, decision.reasons, decision.rule]).toEqual([
          explained.effect,
          explained.reasons,
          explained.rule,
        ]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("evaluation, on arbitrary claims", () => {
  const policy = broadPolicy();

  it("never throws and never needs evaluation-error", () => {
    fc.assert(
      fc.property(claimsInput, (claims) => {
        const decision = policy.evaluate(claims as Claims);
        const explained = policy.explain(claims as Claims);
        expect(decision.reasons).not.toContain("evaluation-error");
        expect(explained.reasons).toEqual(decision.reasons);
        expect(explained.rule).toBe(decision.rule);
        expect(["allow", "deny"]).toContain(decision.effect);
      }),
      { numRuns: 3000 },
    );
  });
});
