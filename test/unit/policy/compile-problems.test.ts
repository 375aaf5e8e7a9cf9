import { describe, expect, it } from "vitest";
import { formatProblem } from "../../../src/config/config-problem.js";
import { compilePolicy } from "../../../src/policy/compile-policy.js";
import type { PolicyContext } from "../../../src/policy/compile-policy.js";

const CTX: PolicyContext = {
  path: "routes[0].policy",
  route: "payroll",
  lists: new Map([["payroll-v3", ["5c1e", "9ab0"]]]),
};

function problemsOfRule(rule: unknown): string[] {
  const { policy, problems } = compilePolicy({ allow: [rule] }, CTX);
  expect(policy).toBeUndefined();
  return problems.map(formatProblem);
}

const AT = "routes[0].policy.allow[0]";
const VERSION = 'a dotted version such as "14.2.1" (quoted: YAML reads 14.10 as a number)';

/** One mistake per rule, with the exact `path: message` that `verigate check` prints. */
const MISTAKES: readonly (readonly [string, unknown, string])[] = [
  [
    "a misspelt attribute",
    { "tee.measurment": "5c1e" },
    `${AT}: unknown attribute "tee.measurment"`,
  ],
  [
    "an attribute under a section",
    { identity: { groups: "x" } },
    `${AT}: unknown attribute "identity"`,
  ],
  [
    "a misspelt operator",
    { "identity.groups": { hass: "finance" } },
    `${AT}.identity.groups: unknown operator "hass" (valid: eq, ne, in, notIn, has, hasAny, hasAll, prefix, suffix, matches, lt, lte, gt, gte, inList, cidr, present)`,
  ],
  [
    "has on a single value",
    { "identity.subject": { has: "x" } },
    `${AT}.identity.subject.has: operator "has" does not apply to identity.subject (a string): it holds a single value, use eq or in`,
  ],
  [
    "hasAll on a boolean",
    { "device.managed": { hasAll: [true] } },
    `${AT}.device.managed.hasAll: operator "hasAll" does not apply to device.managed (a boolean): it holds a single value, use eq`,
  ],
  [
    "a value for a list",
    { "identity.groups": "finance" },
    `${AT}.identity.groups: operator "eq" does not apply to identity.groups (a list of strings): it is a list, use has, hasAny or hasAll`,
  ],
  [
    "in on a list",
    { "identity.groups": { in: ["a"] } },
    `${AT}.identity.groups.in: operator "in" does not apply to identity.groups (a list of strings): it is a list, use has, hasAny or hasAll`,
  ],
  [
    "has with a number",
    { "identity.groups": { has: 5 } },
    `${AT}.identity.groups.has: expected a string, got 5`,
  ],
  [
    "lt on a string",
    { "identity.subject": { lt: "b" } },
    `${AT}.identity.subject.lt: operator "lt" does not apply to identity.subject (a string); valid: eq, ne, in, notIn, prefix, suffix, matches, inList, present`,
  ],
  [
    "prefix on an address",
    { "request.sourceIp": { prefix: "10." } },
    `${AT}.request.sourceIp.prefix: operator "prefix" does not apply to request.sourceIp (an IP address): use cidr to match networks`,
  ],
  [
    "eq on a duration",
    { "tee.age": "5m" },
    `${AT}.tee.age: operator "eq" does not apply to tee.age (a duration): compare with lt, lte, gt or gte`,
  ],
  [
    "a duration without a unit",
    { "tee.age": { lt: 5 } },
    `${AT}.tee.age.lt: expected a duration such as "5m" or "500ms", got 5`,
  ],
  [
    "a version YAML read as a number",
    { "device.osVersion": { gte: 14.1 } },
    `${AT}.device.osVersion.gte: expected ${VERSION}, got 14.1`,
  ],
  [
    "a version with a suffix",
    { "device.osVersion": { gte: "14.2-beta" } },
    `${AT}.device.osVersion.gte: expected ${VERSION}, got "14.2-beta"`,
  ],
  [
    "a time without a zone",
    { "request.time": { lt: "2025-01-01T00:00:00" } },
    `${AT}.request.time.lt: expected an ISO-8601 time such as "2025-01-31T12:00:00Z", got "2025-01-01T00:00:00"`,
  ],
  [
    "an impossible date",
    { "request.time": { gte: "2025-02-30" } },
    `${AT}.request.time.gte: expected an ISO-8601 time such as "2025-01-31T12:00:00Z", got "2025-02-30"`,
  ],
  [
    "a number as text",
    { "tee.svn": { gte: "3" } },
    `${AT}.tee.svn.gte: expected a number, got "3"`,
  ],
  ["NaN", { "tee.svn": { gte: Number.NaN } }, `${AT}.tee.svn.gte: expected a number, got NaN`],
  [
    "a boolean as text",
    { "tee.debug": "false" },
    `${AT}.tee.debug: expected true or false, got "false"`,
  ],
  ["null", { "tee.debug": null }, `${AT}.tee.debug: expected true or false, got null`],
  [
    "present as text",
    { "device.id": { present: "yes" } },
    `${AT}.device.id.present: expected true or false, got "yes"`,
  ],
  [
    "an empty in",
    { "tee.platform": { in: [] } },
    `${AT}.tee.platform.in: expected a non-empty list, each a string, got a list`,
  ],
  [
    "a mixed in",
    { "tee.platform": { in: ["tdx", 5] } },
    `${AT}.tee.platform.in: expected a non-empty list, each a string, got a list`,
  ],
  [
    "an empty hasAll",
    { "identity.groups": { hasAll: [] } },
    `${AT}.identity.groups.hasAll: expected a non-empty list, each a string, got a list`,
  ],
  [
    "a bare list",
    { "tee.platform": ["sev-snp", "tdx"] },
    `${AT}.tee.platform: a list needs an operator: { in: [...] }`,
  ],
  [
    "a bare list on a list",
    { "identity.groups": ["a", "b"] },
    `${AT}.identity.groups: a list needs an operator: { hasAny: [...] } or { hasAll: [...] }`,
  ],
  [
    "no operators",
    { "device.claims": {} },
    `${AT}.device.claims: no operators: give at least one, such as { eq: ... }`,
  ],
  [
    "an unknown list",
    { "tee.measurement": { inList: "payroll-v4" } },
    `${AT}.tee.measurement.inList: unknown list "payroll-v4" (defined: payroll-v3)`,
  ],
  [
    "a bad CIDR",
    { "request.sourceIp": { cidr: "10.0.0/8" } },
    `${AT}.request.sourceIp.cidr: invalid CIDR "10.0.0/8"`,
  ],
  [
    "a CIDR too long",
    { "request.sourceIp": { cidr: ["10.0.0.0/8", "10.0.0.0/33"] } },
    `${AT}.request.sourceIp.cidr: invalid CIDR "10.0.0.0/33": longer than 32 bits`,
  ],
  [
    "an empty CIDR list",
    { "request.sourceIp": { cidr: [] } },
    `${AT}.request.sourceIp.cidr: expected a CIDR such as "10.0.0.0/8", or a non-empty list of them, got a list`,
  ],
  [
    "a bad address",
    { "request.sourceIp": "localhost" },
    `${AT}.request.sourceIp: expected an IP address such as "10.1.2.3", got "localhost"`,
  ],
  [
    "a raw claim against text",
    { "tee.claims.x": { lt: "abc" } },
    `${AT}.tee.claims.x.lt: expected a number or ${VERSION}, got "abc"`,
  ],
  [
    "a raw claim against a mapping",
    { "tee.claims.x": { eq: { a: 1 } } },
    `${AT}.tee.claims.x.eq: expected a string, number or boolean, got a mapping`,
  ],
  [
    "CEL",
    { expr: "claims.tee.debug == false" },
    `${AT}: expr: CEL expressions are not supported yet`,
  ],
  [
    "an empty rule",
    {},
    `${AT}: empty rule: it would match everything; give at least one criterion`,
  ],
  [
    "a rule that is text",
    "everyone",
    `${AT}: expected a rule (a mapping of attributes to values), got "everyone"`,
  ],
  [
    "a rule that is a list",
    [{ "device.managed": true }],
    `${AT}: expected a rule (a mapping of attributes to values), got a list`,
  ],
  ["an empty any", { any: [] }, `${AT}.any: expected a non-empty list of rules, got a list`],
  [
    "an all that is a rule",
    { all: { "device.managed": true } },
    `${AT}.all: expected a non-empty list of rules, got a mapping`,
  ],
  [
    "a not that is a list",
    { not: [] },
    `${AT}.not: expected a rule (a mapping of attributes to values), got a list`,
  ],
  [
    "a __proto__ attribute",
    JSON.parse('{"__proto__": {"eq": 1}}'),
    `${AT}: unknown attribute "__proto__"`,
  ],
];

describe("compile problems", () => {
  it.each(MISTAKES)("reports %s", (_name, rule, problem) => {
    expect(problemsOfRule(rule)).toEqual([problem]);
  });

  it("reports an invalid regular expression, and one that would escape its anchors", () => {
    for (const pattern of ["(", "a)|(.*", "[a-", "a\\"]) {
      const [problem, ...rest] = problemsOfRule({ "request.path": { matches: pattern } });
      expect(rest).toEqual([]);
      expect(problem).toMatch(
        /^routes\[0\]\.policy\.allow\[0\]\.request\.path\.matches: invalid regular expression: /,
      );
    }
  });

  it("reports every problem of a config, each at its own path", () => {
    const { policy, problems } = compilePolicy(
      {
        allow: [
          { "tee.measurment": { inList: "payroll-v3" }, "device.managed": true },
          {
            "identity.groups": { hass: "finance", hasAny: "finance" },
            any: [{ "device.managed": true }, { not: { "tee.debugg": false } }, {}],
            all: [{ expr: "true" }],
          },
          "nobody",
        ],
        deny: { "device.diskEncrypted": false },
        shadow: [],
      },
      { ...CTX, path: "routes[2].policy" },
    );
    expect(policy).toBeUndefined();
    expect(problems).toEqual([
      { path: "routes[2].policy", message: 'unknown key "shadow" (valid: allow, deny)' },
      { path: "routes[2].policy.allow[0]", message: 'unknown attribute "tee.measurment"' },
      {
        path: "routes[2].policy.allow[1].identity.groups",
        message: expect.stringMatching(/^unknown operator "hass" \(valid: eq, ne, /) as unknown,
      },
      {
        path: "routes[2].policy.allow[1].identity.groups.hasAny",
        message: 'expected a non-empty list, each a string, got "finance"',
      },
      { path: "routes[2].policy.allow[1].any[1].not", message: 'unknown attribute "tee.debugg"' },
      {
        path: "routes[2].policy.allow[1].any[2]",
        message: "empty rule: it would match everything; give at least one criterion",
      },
      {
        path: "routes[2].policy.allow[1].all[0]",
        message: "expr: CEL expressions are not supported yet",
      },
      {
        path: "routes[2].policy.allow[2]",
        message: 'expected a rule (a mapping of attributes to values), got "nobody"',
      },
      { path: "routes[2].policy.deny", message: "expected a list of rules, got a mapping" },
    ]);
    expect(Object.isFrozen(problems)).toBe(true);
    expect(problems.every((problem) => Object.isFrozen(problem))).toBe(true);
  });

  it.each([
    ["text", "allow everyone", 'expected a mapping with allow and/or deny, got "allow everyone"'],
    [
      "a list",
      [{ "device.managed": true }],
      "expected a mapping with allow and/or deny, got a list",
    ],
    ["a number", 5, "expected a mapping with allow and/or deny, got 5"],
  ])("reports a policy that is %s", (_name, raw, message) => {
    expect(compilePolicy(raw, CTX).problems).toEqual([{ path: "routes[0].policy", message }]);
  });

  it("reports an allow that is not a list", () => {
    expect(compilePolicy({ allow: { "device.managed": true } }, CTX).problems).toEqual([
      { path: "routes[0].policy.allow", message: "expected a list of rules, got a mapping" },
    ]);
  });

  it("reports a list name when no lists are defined", () => {
    const { problems } = compilePolicy(
      { allow: [{ "tee.measurement": { inList: "payroll-v3" } }] },
      { ...CTX, lists: new Map() },
    );
    expect(problems).toEqual([
      {
        path: "routes[0].policy.allow[0].tee.measurement.inList",
        message: 'unknown list "payroll-v3" (no lists are defined under measurements)',
      },
    ]);
  });

  it("does not change its input", () => {
    const raw = {
      allow: [{ "tee.platform": { in: ["sev-snp", "tdx"] }, any: [{ "device.managed": true }] }],
    };
    const copy = structuredClone(raw);
    compilePolicy(raw, CTX);
    expect(raw).toEqual(copy);
  });
});
