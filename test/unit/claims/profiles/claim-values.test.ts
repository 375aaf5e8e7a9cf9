import { describe, expect, it } from "vitest";
import {
  ClaimProblem,
  ClaimReader,
  combineDebug,
  describeValue,
  quoteValue,
  readBase64AsHex,
  readClaimAt,
  readClaimPath,
  readDbgstat,
  readEatNonce,
  readHex,
  readHexOrBase64AsHex,
  readNonce,
  readSha256DigestAsHex,
  readSvn,
  resolveNonce,
} from "../../../../src/claims/profiles/claim-values.js";

/** The value `read` returns, or the problem it raises, as a comparable value. */
function attempt(read: () => unknown): unknown {
  try {
    return { value: read() };
  } catch (e: unknown) {
    if (e instanceof ClaimProblem) return { problem: e.message };
    throw e;
  }
}

const DIGEST_32 = "deafd540cc8eaeb8c6f6866b92b4ec1273a64979888a0e7657c8dddaa3db143b";

describe("claim lookup", () => {
  const payload = JSON.parse(
    '{"a": {"b": [{"c": 1}, "x"], "ear.status": "affirming"}, "__proto__": {"p": true}}',
  ) as unknown;

  it.each([
    ["a.b.0.c", 1],
    ["a.b.1", "x"],
    ["a.b.2", undefined],
    ["a.b.01", undefined],
    ["a.b.-1", undefined],
    ["a.b.length", undefined],
    ["a.b.0.c.d", undefined],
    ["a.toString", undefined],
    ["a.constructor", undefined],
    ["__proto__.p", true],
    ["a.ear.status", undefined],
    ["missing.path", undefined],
  ])("readClaimPath(%s)", (path, expected) => {
    expect(readClaimPath(payload, path)).toBe(expected);
  });

  it("reads literal segments, so claim names may hold dots", () => {
    expect(readClaimAt(payload, ["a", "ear.status"])).toBe("affirming");
  });

  it("reads nothing from non-objects", () => {
    expect(readClaimPath("text", "length")).toBeUndefined();
    expect(readClaimPath(null, "a")).toBeUndefined();
    expect(readClaimPath(5, "toFixed")).toBeUndefined();
  });

  it("reads only own properties through a reader", () => {
    const reader = ClaimReader.of(Object.create({ inherited: "yes" }) as unknown, "payload");
    expect(reader.value("inherited")).toBeUndefined();
    expect(reader.has("inherited")).toBe(false);
    expect(reader.names()).toEqual([]);
  });

  it("names nested claims by their full path", () => {
    const reader = ClaimReader.of({ outer: { inner: 5 } }, "payload");
    expect(attempt(() => reader.object("outer")?.string("inner"))).toEqual({
      problem: "outer.inner: expected a string, got a number",
    });
  });
});

describe("value converters", () => {
  it.each([
    ["ABCDEF", undefined, { value: "abcdef" }],
    ["abc", undefined, { problem: "m: expected hex digits (an even number of 0-9 a-f)" }],
    ["", undefined, { problem: "m: expected hex digits (an even number of 0-9 a-f)" }],
    ["0x00", undefined, { problem: "m: expected hex digits (an even number of 0-9 a-f)" }],
    [" 00", undefined, { problem: "m: expected hex digits (an even number of 0-9 a-f)" }],
    [DIGEST_32, [48], { problem: "m: expected 48 bytes, got 32" }],
    [DIGEST_32, [32, 48], { value: DIGEST_32 }],
    [42, undefined, { problem: "m: expected a string, got a number" }],
    [undefined, undefined, { value: undefined }],
  ] as const)("readHex(%j, %j)", (value, bytes, expected) => {
    expect(attempt(() => readHex(value, "m", bytes))).toEqual(expected);
  });

  const b64 = Buffer.from(DIGEST_32, "hex").toString("base64");
  it.each([
    [b64, { value: DIGEST_32 }],
    [b64.replace(/=+$/, ""), { value: DIGEST_32 }],
    [Buffer.from(DIGEST_32, "hex").toString("base64url"), { value: DIGEST_32 }],
    ["AQ==", { problem: "m: expected 32 bytes, got 1" }],
    ["AR==", { problem: "m: expected canonical base64" }],
    ["A", { problem: "m: expected canonical base64" }],
    [`${b64.slice(0, 10)} ${b64.slice(10)}`, { problem: "m: expected canonical base64" }],
    ["a+b_", { problem: "m: expected canonical base64" }],
    ["", { problem: "m: expected canonical base64" }],
  ])("readBase64AsHex(%j)", (value, expected) => {
    expect(attempt(() => readBase64AsHex(value, "m", [32]))).toEqual(expected);
  });

  it.each([
    [DIGEST_32, { value: DIGEST_32 }],
    [DIGEST_32.toUpperCase(), { value: DIGEST_32 }],
    [b64, { value: DIGEST_32 }],
    [DIGEST_32.slice(2), { problem: "m: expected 32 bytes as hex or canonical base64" }],
    // 64 hex digits would decode as base64 to 48 bytes: hex-only text is always read as hex.
    [`${DIGEST_32}${DIGEST_32}`, { problem: "m: expected 32 bytes as hex or canonical base64" }],
    ["!!", { problem: "m: expected 32 bytes as hex or canonical base64" }],
  ])("readHexOrBase64AsHex(%j)", (value, expected) => {
    expect(attempt(() => readHexOrBase64AsHex(value, "m", 32))).toEqual(expected);
  });

  it.each([
    [`sha256:${DIGEST_32}`, { value: DIGEST_32 }],
    [`SHA256:${DIGEST_32}`, { problem: 'm: expected "sha256:" followed by 64 hex digits' }],
    [`sha256:${DIGEST_32}\n`, { problem: 'm: expected "sha256:" followed by 64 hex digits' }],
    [`sha384:${DIGEST_32}`, { problem: 'm: expected "sha256:" followed by 64 hex digits' }],
  ])("readSha256DigestAsHex(%j)", (value, expected) => {
    expect(attempt(() => readSha256DigestAsHex(value, "m"))).toEqual(expected);
  });

  it.each([
    [0, { value: 0 }],
    [Number.MAX_SAFE_INTEGER, { value: Number.MAX_SAFE_INTEGER }],
    [Number.MAX_SAFE_INTEGER + 1, { problem: "s: expected a non-negative integer" }],
    [Number.NaN, { problem: "s: expected a non-negative integer" }],
    [Infinity, { problem: "s: expected a non-negative integer" }],
    [-0.5, { problem: "s: expected a non-negative integer" }],
    ["1", { problem: "s: expected a non-negative integer, got a string" }],
    [true, { problem: "s: expected a non-negative integer, got a boolean" }],
  ])("readSvn(%j)", (value, expected) => {
    expect(attempt(() => readSvn(value, "s"))).toEqual(expected);
  });

  it.each([
    ["enabled", { value: true }],
    ["disabled", { value: false }],
    ["disabled-since-boot", { value: false }],
    ["disabled-permanently", { value: false }],
    ["disabled-fully-and-permanently", { value: false }],
    ["ENABLED", { problem: 'd: unknown debug status "ENABLED"' }],
    [0, { problem: "d: expected a string, got a number" }],
  ])("readDbgstat(%j)", (value, expected) => {
    expect(attempt(() => readDbgstat(value, "d"))).toEqual(expected);
  });

  it.each([
    [[], undefined],
    [[undefined], undefined],
    [[false], false],
    [[false, undefined], false],
    [[false, true], true],
    [[undefined, true, false], true],
  ] as const)("combineDebug(%j)", (statements, expected) => {
    expect(combineDebug(...statements)).toBe(expected);
  });
});

describe("nonces", () => {
  it.each([
    ["n-1", { value: "n-1" }],
    ["", { value: undefined }],
    ["x".repeat(1024), { value: "x".repeat(1024) }],
    ["x".repeat(1025), { problem: "n: expected a nonce of 1-1024 printable ASCII characters" }],
    ["caf\u00e9", { problem: "n: expected a nonce of 1-1024 printable ASCII characters" }],
    ["a\u0000b", { problem: "n: expected a nonce of 1-1024 printable ASCII characters" }],
  ])("readNonce(%j)", (value, expected) => {
    expect(attempt(() => readNonce(value, "n"))).toEqual(expected);
  });

  it.each([
    ["one", { value: "one" }],
    [["one"], { value: "one" }],
    [[""], { value: undefined }],
    [
      ["one", "two"],
      { problem: "n: expected one nonce, got an array of 2 (verigate checks exactly one)" },
    ],
    [[1], { problem: "n.0: expected a string, got a number" }],
    [{ nonce: "one" }, { problem: "n: expected a string, got an object" }],
  ])("readEatNonce(%j)", (value, expected) => {
    expect(attempt(() => readEatNonce(value, "n"))).toEqual(expected);
  });

  it("agrees on one nonce, or refuses to choose", () => {
    expect(resolveNonce([])).toBeUndefined();
    expect(resolveNonce([{ claim: "a", value: undefined }])).toBeUndefined();
    expect(
      resolveNonce([
        { claim: "a", value: "n" },
        { claim: "b", value: undefined },
        { claim: "c", value: "n" },
      ]),
    ).toBe("n");
    expect(
      attempt(() =>
        resolveNonce([
          { claim: "a", value: "n" },
          { claim: "b", value: undefined },
          { claim: "c", value: "m" },
        ]),
      ),
    ).toEqual({ problem: "a, c: the token echoes different nonces" });
  });
});

describe("problem wording", () => {
  it.each([
    [null, "null"],
    [[], "an array"],
    [{}, "an object"],
    ["", "a string"],
    [0, "a number"],
    [false, "a boolean"],
  ])("describeValue(%j)", (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });

  it("quotes values JSON-escaped and shortened, so a problem stays one line", () => {
    expect(quoteValue("a\r\nb")).toBe('"a\\r\\nb"');
    expect(quoteValue("x".repeat(50))).toBe(`"${"x".repeat(40)}..."`);
  });
});
