import type { CriterionTrace, RuleTrace } from "./decision.js";
import type { ReasonCode } from "./reasons.js";

/** Specific reasons for criteria on TEE attributes, by attribute. */
const TEE_REASONS: Readonly<Record<string, ReasonCode>> = {
  "tee.debug": "attestation-debug-enabled",
  "tee.measurement": "measurement-not-allowed",
  "tee.tcbStatus": "tcb-out-of-date",
  "tee.svn": "tcb-out-of-date",
  "tee.age": "attestation-stale",
  "tee.platform": "tee-platform-not-allowed",
  "tee.boundToClientCert": "token-not-bound",
};

/**
 * The specific reason a criterion gives a deny: a missing attestation, a debug
 * TEE, a measurement off the list... Criteria on identity and request attributes
 * have none (the rule names them in the trace).
 */
export function reasonForCriterion(criterion: CriterionTrace): ReasonCode | undefined {
  const { attribute, actual } = criterion;
  if (attribute.startsWith("tee.")) {
    if (actual === undefined) return "attestation-missing";
    return TEE_REASONS[attribute] ?? "attestation-failed";
  }
  if (attribute.startsWith("device.")) {
    if (actual === undefined) return "posture-missing";
    return attribute === "device.age" ? "posture-stale" : "posture-failed";
  }
  return undefined;
}

/**
 * The specific reasons of a deny, once each, in trace order. The traces must hold
 * only the responsible criteria (a matching deny rule's criteria that made it
 * match, an allow rule's criteria that made it fail, through any `not`), as
 * `CompiledRule.trace` collects them when given the outcome it explains.
 */
export function reasonsOfTraces(traces: readonly RuleTrace[]): ReasonCode[] {
  const reasons = new Set<ReasonCode>();
  for (const trace of traces) {
    for (const criterion of trace.criteria) {
      const reason = reasonForCriterion(criterion);
      if (reason !== undefined) reasons.add(reason);
    }
  }
  return [...reasons];
}
