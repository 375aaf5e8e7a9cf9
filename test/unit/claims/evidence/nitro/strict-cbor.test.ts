import { cbor } from "../../../../support/cbor-encode.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CborError,
  CborTag,
  decodeCbor,
  type CborValue,
} from "../../../../../src/claims/evidence/nitro/strict-cbor.js";

const bytes = (hex: string): Uint8Array =>
  new Uint8Array(Buffer.from(hex.replace(/ /g, ""), "hex"));

describe("decodeCbor accepts the subset in preferred serialization", () => {
  it.each<[string, string, CborValue]>([
    ["small unsigned", "17", 23],
    ["one-byte unsigned", "18 18", 24],
    ["two-byte unsigned", "19 0100", 256],
    ["four-byte unsigned", "1a 00010000", 65536],
    ["eight-byte unsigned (a Nitro timestamp)", "1b 00000191cceb5159", 1725719859545],
    ["negative (COSE ES384)", "38 22", -35],
    ["byte string", "43 010203", new Uint8Array([1, 2, 3])],
    ["text", "66 534841333834", "SHA384"],
    ["empty array", "80", []],
    ["array", "82 01 61 61", [1, "a"]],
    ["empty map", "a0", new Map()],
    [
      "map with int and text keys",
      "a2 01 38 22 61 61 f6",
      new Map<number | string, CborValue>([
        [1, -35],
        ["a", null],
      ]),
    ],
    ["false, true, null", "83 f4 f5 f6", [false, true, null]],
  ])("%s", (_name, hex, expected) => {
    expect(decodeCbor(bytes(hex))).toEqual(expected);
  });

  it("keeps a tag and its item", () => {
    const value = decodeCbor(bytes("d2 80"));
    expect(value).toBeInstanceOf(CborTag);
    expect(value).toEqual(new CborTag(18, []));
  });
});

describe("decodeCbor refuses everything else", () => {
  it.each([
    ["nothing", "", /unexpected end of data at offset 0/],
    ["an indefinite-length map", "bf 6161 01 ff", /indefinite length at offset 0/],
    ["an indefinite-length array", "9f 01 ff", /indefinite length at offset 0/],
    ["an indefinite-length byte string", "5f 4101 ff", /indefinite length at offset 0/],
    ["a nested indefinite length", "81 9f ff", /indefinite length at offset 1/],
    ["a lone break", "ff", /unexpected break at offset 0/],
    ["reserved additional information", "1c", /reserved additional information 28/],
    ["a padded small integer", "18 17", /non-minimal head at offset 0/],
    ["a padded two-byte integer", "19 00ff", /non-minimal head/],
    ["a padded four-byte integer", "1a 0000ffff", /non-minimal head/],
    ["a padded eight-byte integer", "1b 00000000ffffffff", /non-minimal head/],
    ["a padded string length", "58 01 aa", /non-minimal head/],
    ["an integer beyond 2^53", "1b 0020000000000000", /integer too large/],
    ["a negative integer beyond -2^53", "3b 001fffffffffffff", /integer too large/],
    ["a half float", "f9 3c00", /float at offset 0/],
    ["a double", "fb 3ff0000000000000", /float/],
    ["undefined", "f7", /unsupported simple value/],
    ["a one-byte simple value", "f8 20", /unsupported simple value/],
    ["a duplicate map key", "a2 6161 01 6161 02", /duplicate map key at offset 4/],
    ["a duplicate integer key", "a2 01 01 01 02", /duplicate map key at offset 3/],
    ["a byte-string map key", "a1 4161 01", /map key is not an integer or text/],
    ["an array map key", "a1 80 01", /map key is not an integer or text/],
    ["invalid UTF-8", "62 c328", /invalid UTF-8 in text string at offset 0/],
    ["a string past the end", "45 0102", /string runs past the end of data/],
    ["an array past the end", "85 01", /array runs past the end of data/],
    ["a map past the end", "a3 0101", /map runs past the end of data/],
    ["a huge declared array", "9b 000fffffffffffff", /array runs past the end of data/],
    ["a truncated head", "19 01", /truncated head/],
    ["trailing data", "01 02", /trailing data at offset 1/],
    ["nesting past the bound", `${"81".repeat(10)}01`, /nesting deeper than 8/],
  ])("%s", (_name, hex, message) => {
    expect(() => decodeCbor(bytes(hex))).toThrow(CborError);
    expect(() => decodeCbor(bytes(hex))).toThrow(message);
  });
});

describe("decodeCbor properties", () => {
  it("throws nothing but CborError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        try {
          decodeCbor(input);
        } catch (error: unknown) {
          expect(error).toBeInstanceOf(CborError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  // cbor-x writes integers up to 2^32 and strings in their shortest form, so whatever it
  // encodes from this subset the strict decoder must read back unchanged.
  const encoder = cbor;
  const leaf = fc.oneof(
    fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }),
    fc.string(),
    fc.uint8Array({ maxLength: 40 }).map((array) => Buffer.from(array)),
    fc.constantFrom(true, false, null),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small", maxDepth: 4 }, leaf, tie("array"), tie("map")),
    array: fc.array(tie("value"), { maxLength: 5 }),
    map: fc
      .uniqueArray(
        fc.tuple(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string()), tie("value")),
        {
          maxLength: 5,
          selector: ([key]) => key,
        },
      )
      .map((entries) => new Map(entries)),
  }));

  it("reads back what cbor-x encodes", () => {
    fc.assert(
      fc.property(value, (input) => {
        const decoded = decodeCbor(encoder.encode(input));
        expect(normalize(decoded)).toEqual(normalize(input as CborValue));
      }),
      { numRuns: 500 },
    );
  });
});

/** Buffers and Uint8Arrays compare as plain byte arrays. */
function normalize(value: CborValue): unknown {
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return (value as readonly CborValue[]).map((item) => normalize(item));
  if (value instanceof Map) {
    return [...(value as Map<number | string, CborValue>)].map(([key, item]) => [
      key,
      normalize(item),
    ]);
  }
  return value;
}
