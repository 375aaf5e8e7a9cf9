import type { ReasonCode } from "./reasons.js";

/** What one criterion expected and what it found; built only for denies and `explain`. */
export interface CriterionTrace {
  /** `identity.groups has finance`, as written in the config. */
  readonly criterion: string;
  readonly attribute: string;
  readonly operator: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly holds: boolean;
}

/** One rule's outcome: `allow[0]`, `deny[1]`, with its failing (or all) criteria. */
export interface RuleTrace {
  readonly rule: string;
  readonly matched: boolean;
  readonly criteria: readonly CriterionTrace[];
}

/**
 * A policy decision is a value, never an exception. Fails closed: anything but an
 * explicit `allow` is a deny.
 */
export interface Decision {
  readonly effect: "allow" | "deny";
  readonly reasons: readonly ReasonCode[];
  /** The route whose policy decided (empty when no route matched). */
  readonly route: string;
  /** The rule that decided (`allow[0]`, `deny[2]`), when one did. */
  readonly rule?: string;
  /** Per rule, which criteria failed; empty on the allow fast path. */
  readonly ruleTrace: readonly RuleTrace[];
}
