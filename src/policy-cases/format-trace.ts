/**
 * How `verigate test` and `verigate explain` write decisions: plain lines, stable
 * enough for people to grep and for tests to compare exactly.
 *
 * @module
 */

import type { CriterionTrace, RuleTrace } from "../policy/decision.js";
import type { CaseDecision } from "./decide-case.js";
import type { CaseExpectation, CaseRequest } from "./load-cases.js";

/**
 * A claim value as JSON (`["finance"]`, `true`, `"sev-snp"`); `absent` when missing;
 * ages (`tee.age`, `device.age`, milliseconds) with their unit.
 */
export function formatActual(value: unknown, attribute = ""): string {
  if (value === undefined) return "absent";
  if (typeof value === "number" && attribute.endsWith(".age")) return `${value}ms`;
  try {
    // JSON.stringify gives undefined for functions and symbols, which claims never hold.
    return JSON.stringify(value) ?? typeof value;
  } catch {
    // A cycle or a bigint: claims from YAML or JSON have neither, but never throw here.
    return typeof value === "bigint" ? `${value}` : "(unprintable)";
  }
}

/** `deny [no-matching-rule, measurement-not-allowed] (payroll-api)`; `(no route)` without one. */
function formatOutcome(
  effect: string,
  reasons: readonly string[] | undefined,
  route: string | undefined,
  status: number | undefined,
): string {
  let text = effect;
  if (reasons !== undefined) text += ` [${reasons.join(", ")}]`;
  if (route !== undefined) text += route === "" ? " (no route)" : ` (${route})`;
  if (status !== undefined) text += ` status ${status}`;
  return text;
}

/**
 * The line of a failing case:
 * `FAIL <file>: <name>: expected deny [measurement-not-allowed] (payroll-api), got allow [allowed-by-rule] (payroll-api)`.
 * The expected side shows only what the case gives; the status appears on both sides
 * only when the case expects one.
 */
export function formatFailure(
  file: string,
  name: string,
  expected: CaseExpectation,
  got: CaseDecision,
): string {
  const want = formatOutcome(expected.decision, expected.reasons, expected.route, expected.status);
  const status = expected.status === undefined ? undefined : got.status;
  const actual = formatOutcome(got.effect, got.reasons, got.route, status);
  return `FAIL ${file}: ${name}: expected ${want}, got ${actual}`;
}

/** `  [x] identity.groups has finance   (actual: ["finance"])`. */
export function formatCriterion(criterion: CriterionTrace): string {
  const mark = criterion.holds ? "[x]" : "[ ]";
  return `  ${mark} ${criterion.criterion}   (actual: ${formatActual(criterion.actual, criterion.attribute)})`;
}

/** `allow[0]: matched` or `allow[0]: not matched`, then one line per criterion. */
export function formatRule(rule: RuleTrace): string[] {
  return [
    `${rule.rule}: ${rule.matched ? "matched" : "not matched"}`,
    ...rule.criteria.map(formatCriterion),
  ];
}

/** `decision: deny (no-matching-rule, attestation-debug-enabled) status 403`. */
export function formatDecisionLine(decision: CaseDecision): string {
  return `decision: ${decision.effect} (${decision.reasons.join(", ")}) status ${decision.status}`;
}

/**
 * The whole explanation of one request: the route chosen (or why none), every rule
 * and criterion the policy traced, and the decision line.
 */
export function formatExplanation(request: CaseRequest, decision: CaseDecision): string[] {
  const { claims } = decision;
  const lines = [
    `request: ${request.method} ${claims.request.host || request.host}${claims.request.path || request.path}`,
  ];
  switch (decision.decidedBy) {
    case "request":
      lines.push(`route: none (malformed request: ${decision.detail ?? "refused"})`);
      break;
    case "endpoint":
      lines.push("route: none (a verigate endpoint under /.well-known/verigate/)");
      break;
    case "route":
      lines.push(
        `route: none (no route matches host ${claims.request.host} and path ${claims.request.path})`,
      );
      break;
    case "identity":
      lines.push(
        `route: ${decision.route} (${decision.compiledRoute?.where ?? "?"})`,
        "identity: none, and the route requires one (identity: required); the policy is not consulted",
      );
      break;
    case "policy": {
      lines.push(
        `route: ${decision.route} (${decision.compiledRoute?.where ?? "?"})`,
        `identity: ${claims.identity.source}`,
      );
      const traces = decision.decision?.ruleTrace ?? [];
      if (traces.length === 0)
        lines.push("rules: none (a route without allow rules denies everything)");
      for (const rule of traces) lines.push(...formatRule(rule));
      break;
    }
  }
  lines.push(formatDecisionLine(decision));
  return lines;
}
