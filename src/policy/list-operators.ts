import { expected, listOf, ok, parseList, problem } from "./operator-result.js";
import type { OperatorCompiler, OperatorResult } from "./operator-result.js";
import type { Scalar, ValueCodec } from "./value-codecs.js";

/**
 * `has`, `hasAny`, `hasAll`: the claim value must be a list; elements compare to the
 * operand with `===` (SameValueZero), so `5` never finds `"5"`.
 */
export function listOperators(codec: ValueCodec<Scalar>) {
  return {
    has: (operand: unknown): OperatorResult => {
      const want = codec.parse(operand);
      if (want === undefined) return expected(codec.expected, operand);
      return ok((value) => Array.isArray(value) && value.includes(want));
    },
    hasAny: (operand: unknown): OperatorResult => {
      const wants = parseList(codec, operand);
      if (wants === undefined) return expected(listOf(codec.expected), operand);
      const wanted = new Set<unknown>(wants);
      // Built once here so that a request allocates no callback.
      const isWanted = (item: unknown): boolean => wanted.has(item);
      return ok((value) => Array.isArray(value) && value.some(isWanted));
    },
    hasAll: (operand: unknown): OperatorResult => {
      const wants = parseList(codec, operand);
      if (wants === undefined) return expected(listOf(codec.expected), operand);
      return ok((value) => {
        if (!Array.isArray(value)) return false;
        for (const want of wants) if (!value.includes(want)) return false;
        return true;
      });
    },
  };
}

/** `inList: name`: the string value is a member of the named list under `measurements:`. */
export const inList: OperatorCompiler = (operand, lists) => {
  if (typeof operand !== "string") {
    return expected("the name of a list under measurements", operand);
  }
  const list = lists.get(operand);
  if (list === undefined) {
    const names = [...lists.keys()];
    const known =
      names.length === 0
        ? "no lists are defined under measurements"
        : `defined: ${names.join(", ")}`;
    return problem(`unknown list "${operand}" (${known})`);
  }
  const members = new Set<unknown>(list);
  return ok((value) => typeof value === "string" && members.has(value));
};
