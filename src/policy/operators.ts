import { addressOperators, cidr } from "./address-operators.js";
import type { AttributeType, CompiledAttribute } from "./attributes.js";
import { dynamicOrderOperators, equalityOperators, orderOperators } from "./compare-operators.js";
import { inList, listOperators } from "./list-operators.js";
import { expected, ok, problem } from "./operator-result.js";
import type { NamedLists, OperatorCompiler, OperatorResult } from "./operator-result.js";
import { textOperators } from "./text-operators.js";
import {
  ANY_SCALAR,
  BOOLEAN,
  DURATION,
  NUMBER,
  STRING,
  TIME,
  VERSION_EQUAL,
  VERSION_ORDER,
} from "./value-codecs.js";

/**
 * Policy operators, compiled once per criterion into a test of one claim value.
 *
 * Security invariants, for every operator:
 * - an absent value (`undefined`, `null`) satisfies nothing except `present: false`,
 *   not even `ne` or `notIn`: absence never silently allows;
 * - a value of the wrong type satisfies nothing (`"true"` is not `true`);
 * - nothing is coerced: comparisons are `===`, `Set.has` or numeric `<` on values of
 *   the operand's own type.
 *
 * Which operators an attribute accepts depends on its type, checked at compile time:
 * - `string`: eq ne in notIn prefix suffix matches inList present
 * - `string-list`: has hasAny hasAll present, and prefix suffix matches, which hold
 *   when SOME element matches
 * - `boolean`: eq ne present
 * - `number`, `version`: eq ne in notIn lt lte gt gte present
 * - `duration`, `time`: lt lte gt gte present (measured quantities are compared, not equated)
 * - `ip`: eq ne in notIn cidr present (addresses, not text)
 * - `any` (raw claims): all but the type-specific ones, deciding by the value's type at
 *   run time: eq/ne/in/notIn compare strings, numbers and booleans of the same type;
 *   has/hasAny/hasAll need a list; prefix/suffix/matches take a string or some string of
 *   a list; lt/lte/gt/gte compare numbers with a number operand and dotted-version
 *   strings with a version operand; inList needs a string; cidr an address string.
 */
export const OPERATORS = [
  "eq",
  "ne",
  "in",
  "notIn",
  "has",
  "hasAny",
  "hasAll",
  "prefix",
  "suffix",
  "matches",
  "lt",
  "lte",
  "gt",
  "gte",
  "inList",
  "cidr",
  "present",
] as const;

export type OperatorName = (typeof OPERATORS)[number];

/** Whether `name` is one of the operators. */
export function isOperatorName(name: string): name is OperatorName {
  return (OPERATORS as readonly string[]).includes(name);
}

/** Absent means `undefined` or `null`; an empty list says nothing either. */
export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}

const isAbsent = (value: unknown): boolean => !isPresent(value);

/** `present: true|false`: the only operator an absent value can satisfy. */
const present: OperatorCompiler = (operand) => {
  if (typeof operand !== "boolean") return expected("true or false", operand);
  return ok(operand ? isPresent : isAbsent);
};

type OperatorTable = Readonly<Partial<Record<OperatorName, OperatorCompiler>>>;

const booleanEquality = equalityOperators(BOOLEAN);

const OPERATORS_BY_TYPE: Readonly<Record<AttributeType, OperatorTable>> = {
  string: { ...equalityOperators(STRING), ...textOperators("string"), inList, present },
  "string-list": { ...listOperators(STRING), ...textOperators("list"), present },
  boolean: { eq: booleanEquality.eq, ne: booleanEquality.ne, present },
  number: { ...equalityOperators(NUMBER), ...orderOperators(NUMBER), present },
  version: { ...equalityOperators(VERSION_EQUAL), ...orderOperators(VERSION_ORDER), present },
  duration: { ...orderOperators(DURATION), present },
  time: { ...orderOperators(TIME), present },
  ip: { ...addressOperators, cidr, present },
  any: {
    ...equalityOperators(ANY_SCALAR),
    ...listOperators(ANY_SCALAR),
    ...textOperators("either"),
    ...dynamicOrderOperators(),
    inList,
    cidr,
    present,
  },
};

const TYPE_TEXT: Readonly<Record<AttributeType, string>> = {
  string: "a string",
  "string-list": "a list of strings",
  boolean: "a boolean",
  number: "a number",
  version: "a dotted version",
  duration: "a duration",
  time: "a time",
  ip: "an IP address",
  any: "a raw claim",
};

/** The operators an attribute of this type accepts, in the order of OPERATORS. */
export function operatorsFor(type: AttributeType): readonly OperatorName[] {
  return OPERATORS.filter((name) => OPERATORS_BY_TYPE[type][name] !== undefined);
}

/** Says what to write instead, for the mistakes people actually make. */
function explainMismatch(attribute: CompiledAttribute, operator: OperatorName): string {
  const { name, type } = attribute;
  const valid = operatorsFor(type);
  const base = `operator "${operator}" does not apply to ${name} (${TYPE_TEXT[type]})`;
  const singleValued = ["eq", "in"].filter((name) => valid.includes(name as OperatorName));
  if (["has", "hasAny", "hasAll"].includes(operator) && singleValued.length > 0) {
    return `${base}: it holds a single value, use ${singleValued.join(" or ")}`;
  }
  if (type === "string-list" && ["eq", "ne", "in", "notIn", "inList"].includes(operator)) {
    return `${base}: it is a list, use has, hasAny or hasAll`;
  }
  if (type === "ip" && ["prefix", "suffix", "matches"].includes(operator)) {
    return `${base}: use cidr to match networks`;
  }
  if ((type === "duration" || type === "time") && ["eq", "ne", "in", "notIn"].includes(operator)) {
    return `${base}: compare with lt, lte, gt or gte`;
  }
  return `${base}; valid: ${valid.join(", ")}`;
}

/**
 * Compiles `operator: operand` against an attribute, checking at load time that the
 * operator applies to the attribute's type and that the operand is valid for it.
 */
export function compileOperator(
  attribute: CompiledAttribute,
  operator: string,
  operand: unknown,
  lists: NamedLists,
): OperatorResult {
  if (!isOperatorName(operator)) {
    return problem(`unknown operator "${operator}" (valid: ${OPERATORS.join(", ")})`);
  }
  const compile = OPERATORS_BY_TYPE[attribute.type][operator];
  if (compile === undefined) return problem(explainMismatch(attribute, operator));
  return compile(operand, lists);
}
