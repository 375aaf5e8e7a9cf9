import type { Claims } from "../claims/claims.js";
import type { ConfigProblem } from "../config/config-problem.js";
import { compileAttribute } from "./attributes.js";
import type { CompiledAttribute } from "./attributes.js";
import type { CriterionTrace } from "./decision.js";
import { describeOperand, formatOperand } from "./format-operand.js";
import { compileOperator, isOperatorName, operatorsFor } from "./operators.js";
import type { NamedLists } from "./operator-result.js";

/**
 * A rule compiled into closures: `test` is the fast path, `trace` the slow one that
 * says why. Both are pure and never look at anything but the claims.
 */
export interface CompiledRule {
  /** Whether the rule holds. Allocates nothing. */
  readonly test: (claims: Claims) => boolean;
  /**
   * Appends criterion traces to `out`. With `want` undefined, every criterion (for
   * `explain`). Otherwise only the criteria that made the outcome differ from `want`,
   * on a rule whose outcome does differ: `want: true` on a rule that failed lists what
   * failed; `want: false` on a rule that matched lists what held.
   */
  readonly trace: (claims: Claims, want: boolean | undefined, out: CriterionTrace[]) => void;
}

/** Whether a config value is a YAML mapping (a plain object, not a list or a date). */
export function isMapping(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Compiles one rule: a mapping whose entries must all hold. An entry is a criterion
 * (`attribute: value` means `eq`; `attribute: { op: operand, ... }` means every listed
 * operator holds), or `any: [rules]` (at least one holds), `all: [rules]` (every one
 * holds) or `not: rule` (the rule does not hold).
 *
 * `not` is plain negation: a criterion on an absent attribute is false, so `not` of it
 * is true. Write `present: true` beside it to require the attribute.
 *
 * Reports every problem, each at its path in the config (`path` is the rule's own,
 * e.g. `routes[0].policy.allow[1]`); `rule` is undefined when there is any.
 */
export function compileRule(
  raw: unknown,
  path: string,
  lists: NamedLists,
): { readonly rule: CompiledRule | undefined; readonly problems: readonly ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const rule = compileRuleInto(raw, { path, prefix: "", lists, problems });
  return Object.freeze({
    rule: problems.length === 0 ? rule : undefined,
    problems: Object.freeze(problems),
  });
}

interface Site {
  /** Where the rule is in the config, for problems. */
  readonly path: string;
  /** Where the rule is inside its top-level rule, for criterion texts: `any[0].`. */
  readonly prefix: string;
  readonly lists: NamedLists;
  readonly problems: ConfigProblem[];
}

function report(site: Site, path: string, message: string): void {
  site.problems.push(Object.freeze({ path, message }));
}

function compileRuleInto(raw: unknown, site: Site): CompiledRule | undefined {
  if (!isMapping(raw)) {
    report(
      site,
      site.path,
      `expected a rule (a mapping of attributes to values), got ${describeOperand(raw)}`,
    );
    return undefined;
  }
  const keys = Object.keys(raw);
  if (keys.length === 0) {
    // Fails closed: an empty rule would hold for every request.
    report(site, site.path, "empty rule: it would match everything; give at least one criterion");
    return undefined;
  }
  const before = site.problems.length;
  const entries: CompiledRule[] = [];
  for (const key of keys) {
    const value = raw[key];
    if (key === "any" || key === "all") {
      const rules = compileRuleList(value, key, site);
      if (rules !== undefined) entries.push(key === "any" ? anyOf(rules) : allOf(rules));
    } else if (key === "not") {
      const rule = compileRuleInto(value, {
        ...site,
        path: `${site.path}.not`,
        prefix: `${site.prefix}not.`,
      });
      if (rule !== undefined) entries.push(negate(rule));
    } else if (key === "expr") {
      report(site, site.path, "expr: CEL expressions are not supported yet");
    } else {
      entries.push(...compileCriterion(key, value, site));
    }
  }
  return site.problems.length === before ? allOf(entries) : undefined;
}

function compileRuleList(raw: unknown, key: "any" | "all", site: Site): CompiledRule[] | undefined {
  const path = `${site.path}.${key}`;
  if (!Array.isArray(raw) || raw.length === 0) {
    // `any: []` would match nothing and `all: []` everything: neither is meant.
    report(site, path, `expected a non-empty list of rules, got ${describeOperand(raw)}`);
    return undefined;
  }
  const rules: CompiledRule[] = [];
  raw.forEach((item: unknown, i) => {
    const rule = compileRuleInto(item, {
      ...site,
      path: `${path}[${i}]`,
      prefix: `${site.prefix}${key}[${i}].`,
    });
    if (rule !== undefined) rules.push(rule);
  });
  return rules;
}

/** One leaf per operator: `tee.age: { gte: 0s, lt: 5m }` is two criteria. */
function compileCriterion(name: string, raw: unknown, site: Site): CompiledRule[] {
  const attribute = compileAttribute(name);
  if (attribute === undefined) {
    report(site, site.path, `unknown attribute ${JSON.stringify(name)}`);
    return [];
  }
  const path = `${site.path}.${name}`;
  if (!isMapping(raw)) {
    if (Array.isArray(raw)) {
      const options = operatorsFor(attribute.type).filter((op) =>
        ["in", "hasAny", "hasAll"].includes(op),
      );
      if (options.length > 0) {
        report(
          site,
          path,
          `a list needs an operator: { ${options.join(": [...] } or { ")}: [...] }`,
        );
        return [];
      }
    }
    return compileLeaf(attribute, "eq", raw, path, site);
  }
  const operators = Object.keys(raw);
  if (operators.length === 0) {
    report(site, path, "no operators: give at least one, such as { eq: ... }");
    return [];
  }
  return operators.flatMap((operator) =>
    compileLeaf(
      attribute,
      operator,
      raw[operator],
      isOperatorName(operator) ? `${path}.${operator}` : path,
      site,
    ),
  );
}

function compileLeaf(
  attribute: CompiledAttribute,
  operator: string,
  operand: unknown,
  path: string,
  site: Site,
): CompiledRule[] {
  const compiled = compileOperator(attribute, operator, operand, site.lists);
  if (compiled.problem !== undefined) {
    report(site, path, compiled.problem);
    return [];
  }
  const holds = compiled.test;
  const read = attribute.read;
  const expected = freezeOperand(operand);
  const criterion = `${site.prefix}${attribute.name} ${operator} ${formatOperand(operand)}`;
  return [
    Object.freeze({
      test: (claims: Claims) => holds(read(claims)),
      trace: (claims: Claims, want: boolean | undefined, out: CriterionTrace[]) => {
        const actual = read(claims);
        const outcome = holds(actual);
        if (want !== undefined && outcome === want) return;
        out.push(
          Object.freeze({
            criterion,
            attribute: attribute.name,
            operator,
            expected,
            actual,
            holds: outcome,
          }),
        );
      },
    }),
  ];
}

/** A trace shows the operand as written; a copy, so that nothing can change it later. */
function freezeOperand(operand: unknown): unknown {
  if (Array.isArray(operand)) return Object.freeze(operand.map(freezeOperand));
  if (operand instanceof Date) return formatOperand(operand);
  return operand;
}

/**
 * Traces the entries whose outcome differs from `want` (all of them when `want` is
 * undefined). The same walk serves `all` and `any`: a failed `all` is explained by its
 * failed entries, a failed `any` by all of its (failed) branches, and the other way
 * round when explaining a match.
 */
function traceEntries(entries: readonly CompiledRule[]): CompiledRule["trace"] {
  return (claims, want, out) => {
    for (const entry of entries) {
      if (want === undefined || entry.test(claims) !== want) entry.trace(claims, want, out);
    }
  };
}

function allOf(rules: readonly CompiledRule[]): CompiledRule {
  const entries = Object.freeze([...rules]);
  return Object.freeze({
    test: (claims: Claims) => {
      for (const entry of entries) if (!entry.test(claims)) return false;
      return true;
    },
    trace: traceEntries(entries),
  });
}

function anyOf(rules: readonly CompiledRule[]): CompiledRule {
  const entries = Object.freeze([...rules]);
  return Object.freeze({
    test: (claims: Claims) => {
      for (const entry of entries) if (entry.test(claims)) return true;
      return false;
    },
    trace: traceEntries(entries),
  });
}

function negate(rule: CompiledRule): CompiledRule {
  return Object.freeze({
    test: (claims: Claims) => !rule.test(claims),
    // What made `not X` differ from `want` is what made X differ from `!want`.
    trace: (claims: Claims, want: boolean | undefined, out: CriterionTrace[]) =>
      rule.trace(claims, want === undefined ? undefined : !want, out),
  });
}
