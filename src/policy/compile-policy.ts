import type { Claims } from "../claims/claims.js";
import type { ConfigProblem } from "../config/config-problem.js";
import { compileRule, isMapping } from "./compile-rule.js";
import type { CompiledRule } from "./compile-rule.js";
import type { CriterionTrace, Decision, RuleTrace } from "./decision.js";
import { describeOperand } from "./format-operand.js";
import { reasonsOfTraces } from "./criterion-reasons.js";
import type { ReasonCode } from "./reasons.js";

/** Where a route's policy sits in the config, and what it may refer to. */
export interface PolicyContext {
  /** The policy's path in the config, for problems: `routes[2].policy`. */
  readonly path: string;
  /** The route's name, carried into every decision. */
  readonly route: string;
  /** The config's `measurements:` lists, for `inList`. */
  readonly lists: ReadonlyMap<string, readonly string[]>;
}

/** A route's policy, compiled once at load time. Frozen; safe to share between requests. */
export interface CompiledPolicy {
  readonly route: string;
  /**
   * Decides. On allow it returns a prepared decision and allocates nothing; a deny
   * says which criteria failed. Never throws: an exception denies (`evaluation-error`).
   */
  evaluate(claims: Claims): Decision;
  /** Decides like `evaluate`, tracing every rule and every criterion, matched or not. */
  explain(claims: Claims): Decision;
}

interface NamedRule {
  /** `allow[0]`, `deny[1]`: how decisions and traces name the rule. */
  readonly name: string;
  readonly rule: CompiledRule;
}

/**
 * Compiles a route's `policy:` value, straight from YAML, into a CompiledPolicy.
 * Everything is validated here: only `allow` and `deny`, each a list of rules.
 * Reports every problem with its path; `policy` is undefined when there is any.
 *
 * Decisions (fail closed throughout):
 * - a matching deny rule denies (`denied-by-rule`), whatever the allow rules say;
 * - with no allow rules at all, everything is denied (`no-allow-rules`);
 * - else the first matching allow rule allows (`allowed-by-rule`);
 * - else deny (`no-matching-rule`), tracing for each allow rule the criteria that failed.
 */
export function compilePolicy(
  raw: unknown,
  ctx: PolicyContext,
): { readonly policy: CompiledPolicy | undefined; readonly problems: readonly ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let allow: readonly NamedRule[] = [];
  let deny: readonly NamedRule[] = [];
  // `policy:` left empty reads as null: no rules, so the route denies everything.
  if (raw !== undefined && raw !== null) {
    if (!isMapping(raw)) {
      problems.push({
        path: ctx.path,
        message: `expected a mapping with allow and/or deny, got ${describeOperand(raw)}`,
      });
    } else {
      for (const key of Object.keys(raw)) {
        if (key !== "allow" && key !== "deny") {
          problems.push({
            path: ctx.path,
            message: `unknown key ${JSON.stringify(key)} (valid: allow, deny)`,
          });
        }
      }
      allow = compileRules(raw["allow"], "allow", ctx, problems);
      deny = compileRules(raw["deny"], "deny", ctx, problems);
    }
  }
  const frozenProblems = Object.freeze(problems.map((problem) => Object.freeze({ ...problem })));
  if (problems.length > 0) return Object.freeze({ policy: undefined, problems: frozenProblems });
  return Object.freeze({ policy: buildPolicy(ctx.route, allow, deny), problems: frozenProblems });
}

function compileRules(
  raw: unknown,
  key: "allow" | "deny",
  ctx: PolicyContext,
  problems: ConfigProblem[],
): readonly NamedRule[] {
  const path = `${ctx.path}.${key}`;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push({ path, message: `expected a list of rules, got ${describeOperand(raw)}` });
    return [];
  }
  const rules: NamedRule[] = [];
  raw.forEach((item: unknown, i) => {
    const compiled = compileRule(item, `${path}[${i}]`, ctx.lists);
    problems.push(...compiled.problems);
    if (compiled.rule !== undefined)
      rules.push(Object.freeze({ name: `${key}[${i}]`, rule: compiled.rule }));
  });
  return Object.freeze(rules);
}

const NO_TRACE: readonly RuleTrace[] = Object.freeze([]);

/** The deciding code first (it sets the status), then the specific reasons its traces give. */
function reasons(code: ReasonCode, traces: readonly RuleTrace[]): readonly ReasonCode[] {
  return Object.freeze([code, ...reasonsOfTraces(traces)]);
}

function buildPolicy(
  route: string,
  allow: readonly NamedRule[],
  deny: readonly NamedRule[],
): CompiledPolicy {
  /** `deciding`: the traces the specific reasons come from (default: all of `ruleTrace`). */
  const decide = (
    effect: Decision["effect"],
    code: ReasonCode,
    ruleTrace: readonly RuleTrace[],
    rule?: string,
    deciding: readonly RuleTrace[] = ruleTrace,
  ): Decision =>
    Object.freeze({
      effect,
      reasons: reasons(code, deciding),
      route,
      ...(rule === undefined ? {} : { rule }),
      ruleTrace: Object.freeze(ruleTrace),
    });

  // Prepared once: the allow path and the constant denies return these as they are.
  const allowRules = allow.map((entry) =>
    Object.freeze({
      rule: entry.rule,
      decision: decide("allow", "allowed-by-rule", NO_TRACE, entry.name),
    }),
  );
  const noAllowRules = decide("deny", "no-allow-rules", NO_TRACE);
  const evaluationError = decide("deny", "evaluation-error", NO_TRACE);

  const traceRule = (
    entry: NamedRule,
    claims: Claims,
    matched: boolean,
    want?: boolean,
  ): RuleTrace => {
    const criteria: CriterionTrace[] = [];
    entry.rule.trace(claims, want, criteria);
    return Object.freeze({ rule: entry.name, matched, criteria: Object.freeze(criteria) });
  };

  const evaluate = (claims: Claims): Decision => {
    try {
      for (const entry of deny) {
        if (entry.rule.test(claims)) {
          // Shows the criteria that held, so that the audit log says why it was denied.
          const trace = traceRule(entry, claims, true, false);
          return decide("deny", "denied-by-rule", [trace], entry.name);
        }
      }
      if (allow.length === 0) return noAllowRules;
      for (const entry of allowRules) {
        if (entry.rule.test(claims)) return entry.decision;
      }
      const traces = allow.map((entry) => traceRule(entry, claims, false, true));
      return decide("deny", "no-matching-rule", traces);
    } catch {
      // Fails closed: whatever went wrong, the request is denied.
      return evaluationError;
    }
  };

  const explain = (claims: Claims): Decision => {
    try {
      const denyTraces = deny.map((entry) => traceRule(entry, claims, entry.rule.test(claims)));
      const allowTraces = allow.map((entry) => traceRule(entry, claims, entry.rule.test(claims)));
      const traces = [...denyTraces, ...allowTraces];
      const denied = denyTraces.find((trace) => trace.matched);
      // The specific reasons come from the responsible criteria only, as evaluate() finds them.
      const deniedBy = deny.find((entry) => entry.name === denied?.rule);
      if (denied !== undefined && deniedBy !== undefined) {
        const responsible = [traceRule(deniedBy, claims, true, false)];
        return decide("deny", "denied-by-rule", traces, denied.rule, responsible);
      }
      if (allow.length === 0) return decide("deny", "no-allow-rules", traces, undefined, []);
      const allowed = allowTraces.find((trace) => trace.matched);
      if (allowed !== undefined) {
        return decide("allow", "allowed-by-rule", traces, allowed.rule, []);
      }
      const responsible = allow.map((entry) => traceRule(entry, claims, false, true));
      return decide("deny", "no-matching-rule", traces, undefined, responsible);
    } catch {
      return evaluationError;
    }
  };

  return Object.freeze({ route, evaluate, explain });
}
