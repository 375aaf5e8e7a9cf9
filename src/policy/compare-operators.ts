import { expected, listOf, ok, parseList } from "./operator-result.js";
import type { OperatorResult } from "./operator-result.js";
import { NUMBER, VERSION_ORDER } from "./value-codecs.js";
import type { OrderedCodec, Scalar, ValueCodec } from "./value-codecs.js";

/**
 * `eq`, `ne`, `in`, `notIn` for values a codec reads as primitives. The claim value
 * must read as the operand's type: an absent or mistyped value satisfies none of
 * them, `ne` and `notIn` included, so absence never silently allows.
 */
export function equalityOperators(codec: ValueCodec<Scalar>) {
  return {
    eq: (operand: unknown): OperatorResult => {
      const want = codec.parse(operand);
      if (want === undefined) return expected(codec.expected, operand);
      return ok((value) => codec.read(value) === want);
    },
    ne: (operand: unknown): OperatorResult => {
      const unwanted = codec.parse(operand);
      if (unwanted === undefined) return expected(codec.expected, operand);
      return ok((value) => {
        const have = codec.read(value);
        return have !== undefined && typeof have === typeof unwanted && have !== unwanted;
      });
    },
    in: (operand: unknown): OperatorResult => {
      const wants = parseList(codec, operand);
      if (wants === undefined) return expected(listOf(codec.expected), operand);
      const wanted = new Set(wants);
      return ok((value) => {
        const have = codec.read(value);
        return have !== undefined && wanted.has(have);
      });
    },
    notIn: (operand: unknown): OperatorResult => {
      const unwants = parseList(codec, operand);
      if (unwants === undefined) return expected(listOf(codec.expected), operand);
      const unwanted = new Set(unwants);
      // Raw claims may mix types; a value of a type the list never mentions is the wrong type.
      const types = new Set(unwants.map((item) => typeof item));
      return ok((value) => {
        const have = codec.read(value);
        return have !== undefined && types.has(typeof have) && !unwanted.has(have);
      });
    },
  };
}

/** `lt`, `lte`, `gt`, `gte`: the claim value compared with the operand, in that order. */
export function orderOperators<T>(codec: OrderedCodec<T>) {
  const compile =
    (holds: (comparison: number) => boolean) =>
    (operand: unknown): OperatorResult => {
      const bound = codec.parse(operand);
      if (bound === undefined) return expected(codec.expected, operand);
      return ok((value) => {
        const have = codec.read(value);
        return have !== undefined && holds(codec.compare(have, bound));
      });
    };
  return {
    lt: compile((c) => c < 0),
    lte: compile((c) => c <= 0),
    gt: compile((c) => c > 0),
    gte: compile((c) => c >= 0),
  };
}

/**
 * Ordering for raw claims, whose type is known only at run time: a number operand
 * compares numbers, a string operand compares dotted-version strings. Either way a
 * claim value of the other type satisfies nothing.
 */
export function dynamicOrderOperators() {
  const numbers = orderOperators(NUMBER);
  const versions = orderOperators(VERSION_ORDER);
  const pick =
    (name: keyof typeof numbers) =>
    (operand: unknown): OperatorResult => {
      if (typeof operand === "number") return numbers[name](operand);
      if (typeof operand === "string" && VERSION_ORDER.parse(operand) !== undefined) {
        return versions[name](operand);
      }
      return expected(`a number or ${VERSION_ORDER.expected}`, operand);
    };
  return { lt: pick("lt"), lte: pick("lte"), gt: pick("gt"), gte: pick("gte") };
}
