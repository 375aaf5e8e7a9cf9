import { describe, expect, it } from "vitest";
import type { Claims } from "../../../src/claims/claims.js";
import { compilePolicy } from "../../../src/policy/compile-policy.js";
import type { CompiledPolicy, PolicyContext } from "../../../src/policy/compile-policy.js";
import { makeClaims } from "./claims-fixture.js";

const CTX: PolicyContext = {
  path: "routes[0].policy",
  route: "payroll",
  lists: new Map([["payroll-v3", ["5c1e", "9ab0"]]]),
};

function compile(raw: unknown): CompiledPolicy {
  const { policy, problems } = compilePolicy(raw, CTX);
  expect(problems).toEqual([]);
  if (policy === undefined) throw new Error("no policy");
  return policy;
}

/** The example policy of DESIGN.md. */
const PAYROLL = compile({
  allow: [
    {
      "identity.groups": { has: "finance" },
      "device.managed": true,
      "tee.platform": { in: ["sev-snp", "tdx"] },
      "tee.measurement": { inList: "payroll-v3" },
      "tee.debug": false,
      "tee.age": { lt: "5m" },
    },
    { "identity.groups": { has: "auditors" }, "request.method": { in: ["GET", "HEAD"] } },
  ],
  deny: [{ "device.diskEncrypted": false }, { "request.sourceIp": { cidr: "192.0.2.0/24" } }],
});

const FINANCE_IN_SEV = makeClaims({
  identity: { groups: ["finance"] },
  device: { managed: true, diskEncrypted: true },
  tee: { platform: "sev-snp", measurement: "5c1e", debug: false, age: 1000 },
});

function withParts(parts: Parameters<typeof makeClaims>[0]): Claims {
  return makeClaims({
    identity: { groups: ["finance"], ...parts?.identity },
    device: { managed: true, diskEncrypted: true, ...parts?.device },
    tee: { platform: "sev-snp", measurement: "5c1e", debug: false, age: 1000, ...parts?.tee },
    request: { ...parts?.request },
  });
}

describe("decisions", () => {
  it.each([
    [
      "a finance laptop in an approved SEV-SNP guest",
      FINANCE_IN_SEV,
      "allow",
      ["allowed-by-rule"],
      "allow[0]",
    ],
    [
      "an auditor reading",
      makeClaims({ identity: { groups: ["auditors"] } }),
      "allow",
      ["allowed-by-rule"],
      "allow[1]",
    ],
    [
      "an auditor writing",
      makeClaims({ identity: { groups: ["auditors"] }, request: { method: "POST" } }),
      "deny",
      ["no-matching-rule", "posture-missing", "attestation-missing"],
      undefined,
    ],
    [
      "debug enabled",
      withParts({ tee: { debug: true } }),
      "deny",
      ["no-matching-rule", "attestation-debug-enabled"],
      undefined,
    ],
    [
      "debug absent",
      withParts({ tee: { debug: undefined } }),
      "deny",
      ["no-matching-rule", "attestation-missing"],
      undefined,
    ],
    [
      "an unlisted measurement",
      withParts({ tee: { measurement: "ffff" } }),
      "deny",
      ["no-matching-rule", "measurement-not-allowed"],
      undefined,
    ],
    [
      "a stale attestation",
      withParts({ tee: { age: 300_000 } }),
      "deny",
      ["no-matching-rule", "attestation-stale"],
      undefined,
    ],
    [
      "no tee at all",
      makeClaims({ identity: { groups: ["finance"] }, device: { managed: true } }),
      "deny",
      ["no-matching-rule", "attestation-missing"],
      undefined,
    ],
    [
      "deny beats allow: an unencrypted disk",
      withParts({ device: { diskEncrypted: false } }),
      "deny",
      ["denied-by-rule", "posture-failed"],
      "deny[0]",
    ],
    [
      "deny beats allow: a blocked network",
      withParts({ request: { sourceIp: "::ffff:192.0.2.7" } }),
      "deny",
      ["denied-by-rule"],
      "deny[1]",
    ],
    [
      "the first matching deny rule names the decision",
      withParts({ device: { diskEncrypted: false }, request: { sourceIp: "192.0.2.7" } }),
      "deny",
      ["denied-by-rule", "posture-failed"],
      "deny[0]",
    ],
    [
      "an absent disk state is not a deny (nor an allow by itself)",
      withParts({ device: { diskEncrypted: undefined } }),
      "allow",
      ["allowed-by-rule"],
      "allow[0]",
    ],
  ])("%s: %s %s %j", (_name, claims, effect, reasons, rule) => {
    for (const decision of [PAYROLL.evaluate(claims), PAYROLL.explain(claims)]) {
      expect(decision.effect).toBe(effect);
      expect(decision.reasons).toEqual(reasons);
      expect(decision.rule).toBe(rule);
      expect(decision.route).toBe("payroll");
    }
  });

  it.each([
    ["no policy", undefined],
    ["an empty policy (`policy:` in YAML)", null],
    ["no allow key", { deny: [{ "device.managed": false }] }],
    ["an empty allow list", { allow: [] }],
    ["allow: with nothing after it", { allow: null, deny: null }],
  ])("denies everything with %s", (_name, raw) => {
    const policy = compile(raw);
    const decision = policy.evaluate(FINANCE_IN_SEV);
    expect(decision).toEqual({
      effect: "deny",
      reasons: ["no-allow-rules"],
      route: "payroll",
      ruleTrace: [],
    });
    expect(policy.explain(FINANCE_IN_SEV).reasons).toEqual(["no-allow-rules"]);
  });

  it("checks deny rules even without allow rules", () => {
    const policy = compile({ deny: [{ "device.managed": false }] });
    const claims = makeClaims({ device: { managed: false } });
    expect(policy.evaluate(claims).reasons).toEqual(["denied-by-rule", "posture-failed"]);
    expect(policy.evaluate(claims).rule).toBe("deny[0]");
  });

  it("allows with a prepared decision: no trace, nothing allocated per request", () => {
    const first = PAYROLL.evaluate(FINANCE_IN_SEV);
    expect(first).toEqual({
      effect: "allow",
      reasons: ["allowed-by-rule"],
      route: "payroll",
      rule: "allow[0]",
      ruleTrace: [],
    });
    expect(PAYROLL.evaluate(FINANCE_IN_SEV)).toBe(first);
  });

  it("on no matching rule, traces for each allow rule the criteria that failed", () => {
    const claims = withParts({ tee: { debug: true, age: 600_000 } });
    expect(PAYROLL.evaluate(claims)).toEqual({
      effect: "deny",
      reasons: ["no-matching-rule", "attestation-debug-enabled", "attestation-stale"],
      route: "payroll",
      ruleTrace: [
        {
          rule: "allow[0]",
          matched: false,
          criteria: [
            {
              criterion: "tee.debug eq false",
              attribute: "tee.debug",
              operator: "eq",
              expected: false,
              actual: true,
              holds: false,
            },
            {
              criterion: "tee.age lt 5m",
              attribute: "tee.age",
              operator: "lt",
              expected: "5m",
              actual: 600_000,
              holds: false,
            },
          ],
        },
        {
          rule: "allow[1]",
          matched: false,
          criteria: [
            {
              criterion: "identity.groups has auditors",
              attribute: "identity.groups",
              operator: "has",
              expected: "auditors",
              actual: ["finance"],
              holds: false,
            },
          ],
        },
      ],
    });
  });

  it("on a deny rule, traces the criteria that matched", () => {
    const claims = withParts({ device: { diskEncrypted: false } });
    expect(PAYROLL.evaluate(claims).ruleTrace).toEqual([
      {
        rule: "deny[0]",
        matched: true,
        criteria: [
          {
            criterion: "device.diskEncrypted eq false",
            attribute: "device.diskEncrypted",
            operator: "eq",
            expected: false,
            actual: false,
            holds: true,
          },
        ],
      },
    ]);
  });

  it("explain traces every rule and every criterion, deny rules first", () => {
    const decision = PAYROLL.explain(FINANCE_IN_SEV);
    expect(decision.effect).toBe("allow");
    expect(decision.rule).toBe("allow[0]");
    expect(
      decision.ruleTrace.map((rule) => [rule.rule, rule.matched, rule.criteria.length]),
    ).toEqual([
      ["deny[0]", false, 1],
      ["deny[1]", false, 1],
      ["allow[0]", true, 6],
      ["allow[1]", false, 2],
    ]);
    expect(decision.ruleTrace[2]?.criteria.every((criterion) => criterion.holds)).toBe(true);
    expect(decision.ruleTrace[3]?.criteria.map((criterion) => criterion.holds)).toEqual([
      false,
      true,
    ]);
  });

  it("freezes the policy and every decision", () => {
    expect(Object.isFrozen(PAYROLL)).toBe(true);
    for (const claims of [
      FINANCE_IN_SEV,
      makeClaims(),
      withParts({ device: { diskEncrypted: false } }),
    ]) {
      for (const decision of [PAYROLL.evaluate(claims), PAYROLL.explain(claims)]) {
        expect(Object.isFrozen(decision)).toBe(true);
        expect(Object.isFrozen(decision.reasons)).toBe(true);
        expect(Object.isFrozen(decision.ruleTrace)).toBe(true);
        for (const rule of decision.ruleTrace) {
          expect(Object.isFrozen(rule)).toBe(true);
          expect(Object.isFrozen(rule.criteria)).toBe(true);
          expect(rule.criteria.every((criterion) => Object.isFrozen(criterion))).toBe(true);
        }
      }
    }
  });
});

describe("failing closed", () => {
  const throwing = {
    identity: { source: "certificate" },
    get device(): never {
      throw new Error("boom");
    },
    request: makeClaims().request,
  } as unknown as Claims;

  it.each([
    ["an allow rule", { allow: [{ "device.managed": true }] }],
    [
      "a deny rule",
      { allow: [{ "identity.source": "certificate" }], deny: [{ "device.managed": false }] },
    ],
    ["a not", { allow: [{ not: { "device.managed": false } }] }],
  ])("denies with evaluation-error when reading claims throws in %s", (_name, raw) => {
    const policy = compile(raw);
    for (const decision of [policy.evaluate(throwing), policy.explain(throwing)]) {
      expect(decision).toEqual({
        effect: "deny",
        reasons: ["evaluation-error"],
        route: "payroll",
        ruleTrace: [],
      });
    }
  });

  it.each([null, undefined, 5, "claims", [], {}, { identity: null }])(
    "never throws on claims %j",
    (claims) => {
      const policy = compile({
        allow: [{ not: { "device.managed": false } }],
        deny: [{ "tee.debug": true }],
      });
      expect(policy.evaluate(claims as unknown as Claims).effect).toBe(
        policy.explain(claims as unknown as Claims).effect,
      );
    },
  );

  it("does not let an inherited claim satisfy a rule", () => {
    const policy = compile({
      allow: [
        { "device.claims.__proto__.isAdmin": true },
        { "tee.claims.constructor": { present: true } },
      ],
    });
    const claims = makeClaims({ device: { claims: {} }, tee: { claims: {} } });
    expect(policy.evaluate(claims).reasons).toEqual([
      "no-matching-rule",
      "posture-missing",
      "attestation-missing",
    ]);
  });
});
