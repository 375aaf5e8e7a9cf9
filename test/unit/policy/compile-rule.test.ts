import { describe, expect, it } from "vitest";
import type { Claims } from "../../../src/claims/claims.js";
import { compileRule } from "../../../src/policy/compile-rule.js";
import type { CompiledRule } from "../../../src/policy/compile-rule.js";
import type { CriterionTrace } from "../../../src/policy/decision.js";
import { makeClaims } from "./claims-fixture.js";

function compile(raw: unknown): CompiledRule {
  const { rule, problems } = compileRule(raw, "routes[0].policy.allow[0]", new Map());
  expect(problems).toEqual([]);
  if (rule === undefined) throw new Error("no rule");
  return rule;
}

function trace(rule: CompiledRule, claims: Claims, want?: boolean): CriterionTrace[] {
  const out: CriterionTrace[] = [];
  rule.trace(claims, want, out);
  return out;
}

const MANAGED = makeClaims({ device: { managed: true, os: "macos" } });
const UNMANAGED = makeClaims({ device: { managed: false, os: "linux" } });
const NO_DEVICE = makeClaims();

describe("rules", () => {
  it.each([
    [
      "all criteria must hold",
      { "device.managed": true, "device.os": "macos" },
      [true, false, false],
    ],
    [
      "several operators on one attribute must all hold",
      { "device.os": { prefix: "mac", suffix: "os" } },
      [true, false, false],
    ],
    [
      "any: one branch suffices",
      { any: [{ "device.os": "linux" }, { "device.managed": true }] },
      [true, true, false],
    ],
    [
      "all: every branch",
      { all: [{ "device.os": "macos" }, { "device.managed": true }] },
      [true, false, false],
    ],
    ["not inverts", { not: { "device.managed": false } }, [true, false, true]],
    [
      "not with present requires the attribute",
      { not: { "device.managed": false }, "device.managed": { present: true } },
      [true, false, false],
    ],
    [
      "not of a negated criterion",
      { not: { "device.managed": { ne: true } } },
      [true, false, true],
    ],
    ["not of not", { not: { not: { "device.managed": true } } }, [true, false, false]],
    [
      "nested any inside all inside not",
      {
        not: {
          all: [
            { any: [{ "device.os": "linux" }, { "device.os": "windows" }] },
            { "device.managed": false },
          ],
        },
      },
      [true, false, true],
    ],
    [
      "any and criteria together",
      {
        "device.managed": { present: true },
        any: [{ "device.os": "linux" }, { "device.os": "macos" }],
      },
      [true, true, false],
    ],
  ])("%s", (_name, raw, [managed, unmanaged, noDevice]) => {
    const rule = compile(raw);
    expect([rule.test(MANAGED), rule.test(UNMANAGED), rule.test(NO_DEVICE)]).toEqual([
      managed,
      unmanaged,
      noDevice,
    ]);
  });

  it("treats absence under not as plain negation: the criterion is false, so not is true", () => {
    const rule = compile({ not: { "tee.debug": true } });
    expect(rule.test(makeClaims())).toBe(true);
    expect(rule.test(makeClaims({ tee: { debug: true } }))).toBe(false);
    expect(rule.test(makeClaims({ tee: { debug: "true" } }))).toBe(true);
  });

  it("compiles frozen closures", () => {
    const rule = compile({ "device.managed": true });
    expect(Object.isFrozen(rule)).toBe(true);
  });
});

describe("criterion traces", () => {
  const rule = compile({
    "device.managed": true,
    "device.os": { in: ["macos", "windows"] },
    any: [{ "identity.groups": { has: "finance" } }, { not: { "device.os": "linux" } }],
  });

  it("traces every criterion for explain, matched or not", () => {
    expect(trace(rule, UNMANAGED)).toEqual([
      {
        criterion: "device.managed eq true",
        attribute: "device.managed",
        operator: "eq",
        expected: true,
        actual: false,
        holds: false,
      },
      {
        criterion: "device.os in [macos, windows]",
        attribute: "device.os",
        operator: "in",
        expected: ["macos", "windows"],
        actual: "linux",
        holds: false,
      },
      {
        criterion: "any[0].identity.groups has finance",
        attribute: "identity.groups",
        operator: "has",
        expected: "finance",
        actual: undefined,
        holds: false,
      },
      {
        criterion: "any[1].not.device.os eq linux",
        attribute: "device.os",
        operator: "eq",
        expected: "linux",
        actual: "linux",
        holds: true,
      },
    ]);
  });

  it("on a failed rule, traces only what made it fail (including what a not rejected)", () => {
    expect(trace(rule, UNMANAGED, true).map((entry) => [entry.criterion, entry.holds])).toEqual([
      ["device.managed eq true", false],
      ["device.os in [macos, windows]", false],
      ["any[0].identity.groups has finance", false],
      ["any[1].not.device.os eq linux", true],
    ]);
    const almost = makeClaims({
      identity: { groups: ["finance"] },
      device: { managed: false, os: "macos" },
    });
    expect(trace(rule, almost, true).map((entry) => entry.criterion)).toEqual([
      "device.managed eq true",
    ]);
  });

  it("on a matched rule, traces what made it match", () => {
    const claims = makeClaims({
      identity: { groups: ["finance"] },
      device: { managed: true, os: "macos" },
    });
    expect(trace(rule, claims, false).map((entry) => [entry.criterion, entry.holds])).toEqual([
      ["device.managed eq true", true],
      ["device.os in [macos, windows]", true],
      ["any[0].identity.groups has finance", true],
      ["any[1].not.device.os eq linux", false],
    ]);
  });

  it("freezes traces and the operands they show", () => {
    const [first, second] = trace(rule, UNMANAGED);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(second?.expected)).toBe(true);
  });

  it("writes operands as they read in YAML", () => {
    const timed = compile({
      "request.time": { lt: new Date(Date.UTC(2025, 0, 1)) },
      "tee.age": { lt: "5m" },
    });
    expect(trace(timed, makeClaims()).map((entry) => [entry.criterion, entry.expected])).toEqual([
      ["request.time lt 2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"],
      ["tee.age lt 5m", "5m"],
    ]);
  });
});
