import { expected, ok, problem } from "./operator-result.js";
import type { OperatorResult, ValueTest } from "./operator-result.js";

/**
 * Where a text operator looks: a string attribute, each element of a string-list
 * attribute (the operator holds when SOME element matches), or, for raw claims,
 * whichever of the two the value turns out to be.
 */
export type TextShape = "string" | "list" | "either";

function matchText(shape: TextShape, matches: (text: string) => boolean): ValueTest {
  const isMatch = (item: unknown): boolean => typeof item === "string" && matches(item);
  const someMatch = (value: unknown): boolean => Array.isArray(value) && value.some(isMatch);
  if (shape === "string") return isMatch;
  if (shape === "list") return someMatch;
  return (value) => isMatch(value) || someMatch(value);
}

/**
 * `matches` is anchored: the whole value must match. The source is compiled alone
 * first, so that a pattern such as `a)|(.*` (invalid alone) cannot close the
 * anchoring group and match anything.
 */
function compilePattern(source: string): ((text: string) => boolean) | string {
  try {
    new RegExp(source);
    const anchored = new RegExp(`^(?:${source})$`);
    return (text) => anchored.test(text);
  } catch (e: unknown) {
    return `invalid regular expression: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** `prefix`, `suffix` and `matches` (anchored regular expression). */
export function textOperators(shape: TextShape) {
  const compile =
    (build: (operand: string) => ((text: string) => boolean) | string) =>
    (operand: unknown): OperatorResult => {
      if (typeof operand !== "string") return expected("a string", operand);
      const matches = build(operand);
      return typeof matches === "string" ? problem(matches) : ok(matchText(shape, matches));
    };
  return {
    prefix: compile((start) => (text) => text.startsWith(start)),
    suffix: compile((end) => (text) => text.endsWith(end)),
    matches: compile(compilePattern),
  };
}
