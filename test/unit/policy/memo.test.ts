import { describe, expect, it } from "vitest";
import { memoizeText } from "../../../src/policy/memo.js";

describe("memoizeText", () => {
  it("computes each text once, undefined results included, and forgets all when full", () => {
    const calls: string[] = [];
    const parse = memoizeText((text) => {
      calls.push(text);
      return text === "bad" ? undefined : text.length;
    }, 2);
    expect([parse("ab"), parse("ab"), parse("bad"), parse("bad")]).toEqual([
      2,
      2,
      undefined,
      undefined,
    ]);
    expect(calls).toEqual(["ab", "bad"]);
    parse("abc"); // full: forgets "ab" and "bad"
    expect(parse("ab")).toBe(2);
    expect(calls).toEqual(["ab", "bad", "abc", "ab"]);
  });
});
