import { describeOperand } from "./format-operand.js";
import type { ValueCodec } from "./value-codecs.js";

/** A compiled operator: whether one claim value satisfies it. */
export type ValueTest = (value: unknown) => boolean;

/** A compiled operator, or why its operand cannot be used. */
export type OperatorResult =
  | { readonly test: ValueTest; readonly problem?: undefined }
  | { readonly test?: undefined; readonly problem: string };

/** Named lists from the config's `measurements:` section, for `inList`. */
export type NamedLists = ReadonlyMap<string, readonly string[]>;

/** Compiles one operator's operand, once, at load time. */
export type OperatorCompiler = (operand: unknown, lists: NamedLists) => OperatorResult;

export const ok = (test: ValueTest): OperatorResult => ({ test });

export const problem = (text: string): OperatorResult => ({ problem: text });

export const expected = (what: string, operand: unknown): OperatorResult =>
  problem(`expected ${what}, got ${describeOperand(operand)}`);

export const listOf = (what: string): string => `a non-empty list, each ${what}`;

/** An empty list is refused: `in: []` would match nothing and `hasAll: []` everything. */
export function parseList<T>(codec: ValueCodec<T>, operand: unknown): T[] | undefined {
  if (!Array.isArray(operand) || operand.length === 0) return undefined;
  const values: T[] = [];
  for (const item of operand) {
    const value = codec.parse(item);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}
