import type { CaseDecision } from "./decide-case.js";
import type { CaseExpectation } from "./load-cases.js";

/**
 * Whether a decision meets a case's expectation: the same effect; every expected
 * reason among the decision's reasons (a case names the reasons it cares about, such
 * as `measurement-not-allowed`, without repeating `no-matching-rule`); and the route
 * and status, when the case gives them.
 */
export function meetsExpectation(decision: CaseDecision, expected: CaseExpectation): boolean {
  if (decision.effect !== expected.decision) return false;
  if (
    expected.reasons !== undefined &&
    !expected.reasons.every((r) => decision.reasons.includes(r))
  )
    return false;
  if (expected.route !== undefined && decision.route !== expected.route) return false;
  if (expected.status !== undefined && decision.status !== expected.status) return false;
  return true;
}
