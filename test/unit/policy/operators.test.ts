import { describe, expect, it } from "vitest";
import { compileAttribute } from "../../../src/policy/attributes.js";
import type { AttributeType } from "../../../src/policy/attributes.js";
import type { ValueTest } from "../../../src/policy/operator-result.js";
import { compileOperator, operatorsFor, OPERATORS } from "../../../src/policy/operators.js";

const LISTS = new Map([["payroll-v3", ["5c1e", "9ab0"]]]);

function compile(attribute: string, operator: string, operand: unknown): ValueTest {
  const compiled = compileAttribute(attribute);
  if (compiled === undefined) throw new Error(`unknown attribute ${attribute}`);
  const result = compileOperator(compiled, operator, operand, LISTS);
  if (result.problem !== undefined) throw new Error(result.problem);
  return result.test;
}

const JAN_2025 = Date.parse("2025-01-01T00:00:00Z");

type Row = readonly [
  attribute: string,
  operator: string,
  operand: unknown,
  value: unknown,
  holds: boolean,
];

/** Each operator against each attribute type: matching, not matching, absent, wrong type. */
const ROWS: readonly Row[] = [
  // string
  ["tee.platform", "eq", "sev-snp", "sev-snp", true],
  ["tee.platform", "eq", "sev-snp", "tdx", false],
  ["tee.platform", "eq", "sev-snp", "SEV-SNP", false],
  ["tee.platform", "eq", "sev-snp", ["sev-snp"], false],
  ["tee.platform", "eq", "5", 5, false],
  ["tee.platform", "ne", "sev-snp", "tdx", true],
  ["tee.platform", "ne", "sev-snp", "sev-snp", false],
  ["tee.platform", "ne", "sev-snp", undefined, false],
  ["tee.platform", "ne", "sev-snp", null, false],
  ["tee.platform", "ne", "sev-snp", 5, false],
  ["tee.platform", "ne", "sev-snp", ["tdx"], false],
  ["tee.platform", "in", ["sev-snp", "tdx"], "tdx", true],
  ["tee.platform", "in", ["sev-snp", "tdx"], "sgx", false],
  ["tee.platform", "in", ["sev-snp", "tdx"], ["tdx"], false],
  ["tee.platform", "notIn", ["sgx"], "tdx", true],
  ["tee.platform", "notIn", ["sgx"], "sgx", false],
  ["tee.platform", "notIn", ["sgx"], undefined, false],
  ["tee.platform", "notIn", ["sgx"], 5, false],
  ["request.path", "prefix", "/api/", "/api/pay", true],
  ["request.path", "prefix", "/api/", "/apix", false],
  ["request.path", "prefix", "/api/", ["/api/pay"], false],
  ["request.path", "suffix", ".json", "/a.json", true],
  ["request.path", "suffix", ".json", "/a.json/x", false],
  ["request.path", "matches", "/api/[a-z]+", "/api/pay", true],
  ["request.path", "matches", "/api/[a-z]+", "/api/pay/x", false],
  ["request.path", "matches", "/api/[a-z]+", "x/api/pay", false],
  ["request.path", "matches", "/api/[a-z]+", "/api/pay\n", false],
  ["request.path", "matches", "a|b", "a", true],
  ["request.path", "matches", "a|b", "ab", false],
  ["request.path", "matches", "a|b", "xb", false],
  ["request.path", "matches", "[0-9]+", 123, false],
  ["tee.measurement", "inList", "payroll-v3", "9ab0", true],
  ["tee.measurement", "inList", "payroll-v3", "9AB0", false],
  ["tee.measurement", "inList", "payroll-v3", ["9ab0"], false],
  ["tee.measurement", "present", true, "", true],
  ["tee.measurement", "present", false, "", false],
  // string-list
  ["identity.groups", "has", "finance", ["eng", "finance"], true],
  ["identity.groups", "has", "finance", ["eng"], false],
  ["identity.groups", "has", "finance", [], false],
  ["identity.groups", "has", "finance", "finance", false],
  ["identity.groups", "has", "finance", ["Finance"], false],
  ["identity.groups", "hasAny", ["finance", "hr"], ["hr"], true],
  ["identity.groups", "hasAny", ["finance", "hr"], ["eng"], false],
  ["identity.groups", "hasAny", ["finance", "hr"], "hr", false],
  ["identity.groups", "hasAll", ["finance", "hr"], ["hr", "eng", "finance"], true],
  ["identity.groups", "hasAll", ["finance", "hr"], ["hr"], false],
  ["identity.groups", "hasAll", ["finance", "hr"], "finance,hr", false],
  ["identity.emails", "suffix", "@corp.example", ["a@x.example", "a@corp.example"], true],
  ["identity.emails", "suffix", "@corp.example", ["a@corp.example.evil"], false],
  ["identity.emails", "suffix", "@corp.example", "a@corp.example", false],
  ["identity.dnsNames", "prefix", "build-", ["build-7.corp"], true],
  ["identity.dnsNames", "prefix", "build-", [5, "x"], false],
  ["identity.dnsNames", "matches", "[a-z]+\\.corp", ["x.corp.evil", "ab.corp"], true],
  ["identity.dnsNames", "matches", "[a-z]+\\.corp", ["x.corp.evil"], false],
  ["identity.groups", "present", true, ["a"], true],
  ["identity.groups", "present", true, [], false],
  ["identity.groups", "present", false, [], true],
  // boolean
  ["device.managed", "eq", true, true, true],
  ["device.managed", "eq", true, false, false],
  ["device.managed", "eq", true, "true", false],
  ["device.managed", "eq", true, 1, false],
  ["device.managed", "eq", false, false, true],
  ["device.managed", "eq", false, undefined, false],
  ["device.managed", "eq", false, 0, false],
  ["device.managed", "eq", false, null, false],
  ["device.managed", "ne", true, false, true],
  ["device.managed", "ne", true, true, false],
  ["device.managed", "ne", true, undefined, false],
  ["device.managed", "ne", true, "false", false],
  ["device.managed", "present", true, false, true],
  // number
  ["tee.svn", "eq", 3, 3, true],
  ["tee.svn", "eq", 3, "3", false],
  ["tee.svn", "eq", 3, [3], false],
  ["tee.svn", "ne", 3, 4, true],
  ["tee.svn", "ne", 3, 3, false],
  ["tee.svn", "ne", 3, "4", false],
  ["tee.svn", "ne", 3, Number.NaN, false],
  ["tee.svn", "in", [1, 2], 2, true],
  ["tee.svn", "in", [1, 2], "2", false],
  ["tee.svn", "notIn", [1, 2], 3, true],
  ["tee.svn", "notIn", [1, 2], 1, false],
  ["tee.svn", "notIn", [1, 2], "3", false],
  ["tee.svn", "lt", 5, 4, true],
  ["tee.svn", "lt", 5, 5, false],
  ["tee.svn", "lt", 5, "4", false],
  ["tee.svn", "lt", 5, Number.NEGATIVE_INFINITY, false],
  ["tee.svn", "lte", 5, 5, true],
  ["tee.svn", "lte", 5, 6, false],
  ["tee.svn", "gt", 5, 6, true],
  ["tee.svn", "gt", 5, 5, false],
  ["tee.svn", "gte", 5, 5, true],
  ["tee.svn", "gte", 5, 4.99, false],
  ["tee.svn", "gte", 5, Number.POSITIVE_INFINITY, false],
  ["tee.svn", "gte", 5, Number.NaN, false],
  // duration
  ["tee.age", "lt", "5m", 299_999, true],
  ["tee.age", "lt", "5m", 300_000, false],
  ["tee.age", "lt", "5m", "1s", false],
  ["tee.age", "lte", "5m", 300_000, true],
  ["tee.age", "gt", "500ms", 501, true],
  ["tee.age", "gt", "500ms", 500, false],
  ["device.age", "gte", "1h", 3_600_000, true],
  ["device.age", "gte", "1h", 3_599_999, false],
  // version
  ["device.osVersion", "gte", "14.2", "14.2.1", true],
  ["device.osVersion", "gte", "14.2", "14.10", true],
  ["device.osVersion", "gte", "14.2", "14.2", true],
  ["device.osVersion", "gte", "14.2", "14.2.0", true],
  ["device.osVersion", "gte", "14.2", "14.1.9", false],
  ["device.osVersion", "gte", "14.2", "14", false],
  ["device.osVersion", "gte", "14.2", 14.2, false],
  ["device.osVersion", "gte", "14.2", "14.2-beta", false],
  ["device.osVersion", "gte", "14.2", "v14.2", false],
  ["device.osVersion", "gte", 14, "14.0.1", true],
  ["device.osVersion", "lt", "14.10", "14.9", true],
  ["device.osVersion", "lt", "14.10", "14.10", false],
  ["device.osVersion", "lte", "14.10", "14.10.0", true],
  ["device.osVersion", "gt", "9", "10", true],
  ["device.osVersion", "eq", "14.2", "14.2.0", true],
  ["device.osVersion", "eq", "14.2", "14.02", true],
  ["device.osVersion", "eq", "14.2", "14.2.1", false],
  ["device.osVersion", "eq", 14, "14.0", true],
  ["device.osVersion", "ne", "14.2", "14.3", true],
  ["device.osVersion", "ne", "14.2", "14.2.0", false],
  ["device.osVersion", "ne", "14.2", "garbage", false],
  ["device.osVersion", "in", ["13", "14.2"], "14.2.0", true],
  ["device.osVersion", "in", ["13", "14.2"], "14.1", false],
  ["device.osVersion", "notIn", ["13"], "15", true],
  ["device.osVersion", "notIn", ["13"], "13.0", false],
  ["device.osVersion", "notIn", ["13"], "x", false],
  // time
  ["request.time", "lt", "2025-01-01T00:00:00Z", JAN_2025 - 1, true],
  ["request.time", "lt", "2025-01-01T00:00:00Z", JAN_2025, false],
  ["request.time", "lt", "2025-01-01T00:00:00Z", "2024-01-01T00:00:00Z", false],
  ["request.time", "gte", "2025-01-01T01:00:00+01:00", JAN_2025, true],
  ["request.time", "gte", "2025-01-01T01:00:00.001+01:00", JAN_2025, false],
  ["request.time", "gt", "2024-12-31", JAN_2025, true],
  ["request.time", "lte", new Date(JAN_2025), JAN_2025, true],
  // ip
  ["request.sourceIp", "cidr", "10.0.0.0/8", "10.1.2.3", true],
  ["request.sourceIp", "cidr", "10.0.0.0/8", "::ffff:10.1.2.3", true],
  ["request.sourceIp", "cidr", "10.0.0.0/8", "::FFFF:10.1.2.3", true],
  ["request.sourceIp", "cidr", "10.0.0.0/8", "11.0.0.1", false],
  ["request.sourceIp", "cidr", "10.0.0.0/8", "::ffff:11.0.0.1", false],
  ["request.sourceIp", "cidr", "10.0.0.0/8", "10.1.2.3.4", false],
  ["request.sourceIp", "cidr", "10.0.0.0/8", "not-an-ip", false],
  ["request.sourceIp", "cidr", "10.0.0.0/8", 167_837_953, false],
  ["request.sourceIp", "cidr", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8::1", true],
  ["request.sourceIp", "cidr", ["10.0.0.0/8", "2001:db8::/32"], "2001:db9::1", false],
  ["request.sourceIp", "cidr", "192.168.1.7", "192.168.1.7", true],
  ["request.sourceIp", "cidr", "192.168.1.7", "192.168.1.8", false],
  ["request.sourceIp", "cidr", "0.0.0.0/0", "::1", false],
  ["request.sourceIp", "eq", "::1", "0:0:0:0:0:0:0:1", true],
  ["request.sourceIp", "eq", "10.0.0.1", "::ffff:10.0.0.1", true],
  ["request.sourceIp", "eq", "10.0.0.1", "10.0.0.10", false],
  ["request.sourceIp", "ne", "10.0.0.1", "10.0.0.2", true],
  ["request.sourceIp", "ne", "10.0.0.1", "10.0.0.1", false],
  ["request.sourceIp", "ne", "10.0.0.1", "garbage", false],
  ["request.sourceIp", "in", ["10.0.0.1", "10.0.0.2"], "10.0.0.2", true],
  ["request.sourceIp", "in", ["10.0.0.1", "10.0.0.2"], "10.0.0.3", false],
  ["request.sourceIp", "notIn", ["10.0.0.1"], "10.0.0.3", true],
  ["request.sourceIp", "notIn", ["10.0.0.1"], "::ffff:10.0.0.1", false],
  ["request.sourceIp", "notIn", ["10.0.0.1"], "", false],
  // any: raw claims decide by the value's type at run time
  ["tee.claims.x", "eq", "a", "a", true],
  ["tee.claims.x", "eq", "a", ["a"], false],
  ["tee.claims.x", "eq", 5, 5, true],
  ["tee.claims.x", "eq", 5, "5", false],
  ["tee.claims.x", "eq", true, true, true],
  ["tee.claims.x", "eq", true, "true", false],
  ["tee.claims.x", "eq", false, 0, false],
  ["tee.claims.x", "ne", "a", "b", true],
  ["tee.claims.x", "ne", "a", 5, false],
  ["tee.claims.x", "ne", "a", {}, false],
  ["tee.claims.x", "ne", 1, true, false],
  ["tee.claims.x", "in", [1, "a"], 1, true],
  ["tee.claims.x", "in", [1, "a"], "a", true],
  ["tee.claims.x", "in", [1, "a"], "1", false],
  ["tee.claims.x", "notIn", [1, 2], 3, true],
  ["tee.claims.x", "notIn", [1, 2], "3", false],
  ["tee.claims.x", "notIn", [1, 2], 1, false],
  ["tee.claims.x", "has", "a", ["a", "b"], true],
  ["tee.claims.x", "has", "a", "a", false],
  ["tee.claims.x", "has", 5, [5], true],
  ["tee.claims.x", "has", 5, ["5"], false],
  ["tee.claims.x", "hasAny", [1, "a"], [2, "a"], true],
  ["tee.claims.x", "hasAny", [1, "a"], ["1"], false],
  ["tee.claims.x", "hasAll", [1, "a"], ["a", 1], true],
  ["tee.claims.x", "hasAll", [1, "a"], [1], false],
  ["tee.claims.x", "prefix", "ab", "abc", true],
  ["tee.claims.x", "prefix", "ab", ["x", "abc"], true],
  ["tee.claims.x", "prefix", "ab", ["x"], false],
  ["tee.claims.x", "prefix", "1", 12, false],
  ["tee.claims.x", "matches", "[0-9a-f]{4}", "00ff", true],
  ["tee.claims.x", "matches", "[0-9a-f]{4}", "00ff00", false],
  ["tee.claims.x", "lt", 10, 9, true],
  ["tee.claims.x", "lt", 10, "9", false],
  ["tee.claims.x", "gte", "1.2", "1.10", true],
  ["tee.claims.x", "gte", "1.2", "1.1", false],
  ["tee.claims.x", "gte", "1.2", 1.3, false],
  ["tee.claims.x", "inList", "payroll-v3", "5c1e", true],
  ["tee.claims.x", "inList", "payroll-v3", ["5c1e"], false],
  ["tee.claims.x", "cidr", "10.0.0.0/8", "10.1.1.1", true],
  ["tee.claims.x", "cidr", "10.0.0.0/8", ["10.1.1.1"], false],
  ["tee.claims.x", "present", true, {}, true],
  ["tee.claims.x", "present", true, 0, true],
  ["tee.claims.x", "present", true, false, true],
  ["tee.claims.x", "present", true, [], false],
  ["tee.claims.x", "present", true, null, false],
  ["tee.claims.x", "present", false, null, true],
];

describe("operators", () => {
  it.each(ROWS)("%s %s %j on %j holds: %s", (attribute, operator, operand, value, holds) => {
    expect(compile(attribute, operator, operand)(value)).toBe(holds);
  });
});

/** A valid operand for every operator each attribute type accepts. */
const SAMPLES: Readonly<
  Record<AttributeType, readonly [string, Readonly<Record<string, unknown>>]>
> = {
  string: [
    "tee.platform",
    {
      eq: "a",
      ne: "a",
      in: ["a"],
      notIn: ["a"],
      prefix: "",
      suffix: "",
      matches: ".*",
      inList: "payroll-v3",
    },
  ],
  "string-list": [
    "identity.groups",
    { has: "a", hasAny: ["a"], hasAll: ["a"], prefix: "", suffix: "", matches: ".*" },
  ],
  boolean: ["device.managed", { eq: false, ne: true }],
  number: ["tee.svn", { eq: 0, ne: 1, in: [0], notIn: [1], lt: 1, lte: 1, gt: -1, gte: -1 }],
  version: [
    "device.osVersion",
    { eq: "0", ne: "1", in: ["0"], notIn: ["1"], lt: "1", lte: "1", gt: "0", gte: "0" },
  ],
  duration: ["tee.age", { lt: "1d", lte: "1d", gt: "0ms", gte: "0ms" }],
  time: [
    "request.time",
    { lt: "2999-01-01", lte: "2999-01-01", gt: "1970-01-01", gte: "1970-01-01" },
  ],
  ip: [
    "request.sourceIp",
    { eq: "10.0.0.1", ne: "10.0.0.2", in: ["10.0.0.1"], notIn: ["10.0.0.2"], cidr: "0.0.0.0/0" },
  ],
  any: [
    "tee.claims.x",
    {
      eq: "a",
      ne: "a",
      in: ["a"],
      notIn: ["a"],
      has: "a",
      hasAny: ["a"],
      hasAll: ["a"],
      prefix: "",
      suffix: "",
      matches: ".*",
      lt: 1,
      lte: 1,
      gt: -1,
      gte: -1,
      inList: "payroll-v3",
      cidr: "0.0.0.0/0",
    },
  ],
};

const EVERY_OPERAND = Object.entries(SAMPLES).flatMap(([type, [attribute, operands]]) =>
  operatorsFor(type as AttributeType)
    .filter((operator) => operator !== "present")
    .map((operator) => [type, attribute, operator, operands[operator]] as const),
);

describe("absent and mistyped values", () => {
  it("the samples cover every operator of every type", () => {
    for (const [type, [, operands]] of Object.entries(SAMPLES)) {
      const accepted = operatorsFor(type as AttributeType).filter((name) => name !== "present");
      expect(Object.keys(operands).sort()).toEqual([...accepted].sort());
    }
    expect(new Set(EVERY_OPERAND.map(([, , operator]) => operator))).toEqual(
      new Set(OPERATORS.filter((name) => name !== "present")),
    );
  });

  // Absence never silently allows: not even ne, notIn or a vacuous prefix "".
  it.each(EVERY_OPERAND)(
    "%s: %s %s holds for no absent value",
    (_type, attribute, operator, operand) => {
      const test = compile(attribute, operator, operand);
      expect([undefined, null].map(test)).toEqual([false, false]);
    },
  );

  it.each(EVERY_OPERAND)(
    "%s: %s %s holds for no value of a foreign type",
    (_type, attribute, operator, operand) => {
      const test = compile(attribute, operator, operand);
      const foreign = [{}, { a: 1 }, Number.NaN, Symbol("x"), () => true, new Date(0), 10n];
      expect(foreign.map(test)).toEqual(foreign.map(() => false));
    },
  );

  it.each(Object.entries(SAMPLES))(
    "%s: only present: false holds for an absent value",
    (_type, [attribute]) => {
      expect(compile(attribute, "present", false)(undefined)).toBe(true);
      expect(compile(attribute, "present", true)(undefined)).toBe(false);
    },
  );
});
