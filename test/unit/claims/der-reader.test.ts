import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DER_TAG,
  DerError,
  DerReader,
  decodeBitString,
  decodeObjectIdentifier,
  decodeSafeUnsignedInteger,
  decodeUtf8,
  readSingle,
  readDerTime,
} from "../../../src/claims/der-reader.js";

const bytes = (hex: string): Uint8Array =>
  new Uint8Array(Buffer.from(hex.replace(/ /g, ""), "hex"));

describe("DerReader framing", () => {
  it.each([
    ["short form", "04 02 aabb", "aabb"],
    ["long form, one length octet", `04 81 80 ${"00".repeat(128)}`, "00".repeat(128)],
    ["long form, two length octets", `04 82 0100 ${"11".repeat(256)}`, "11".repeat(256)],
  ])("reads %s", (_name, input, content) => {
    expect(Buffer.from(readSingle(bytes(input), DER_TAG.octetString, "x")).toString("hex")).toBe(
      content,
    );
  });

  it.each([
    ["an indefinite length", "24 80 0401aa 0000", /indefinite length/],
    ["a long form below 128", "04 81 02 aabb", /non-minimal length/],
    ["a length with a leading zero octet", `04 82 0080 ${"00".repeat(128)}`, /non-minimal length/],
    ["a length past the end", "04 05 aabb", /past the end/],
    ["a truncated length", "04 82 01", /truncated length/],
    ["a missing length", "04", /truncated length/],
    ["a multi-byte tag", "1f 81 00 00", /multi-byte tags/],
    ["trailing data", "04 01 aa 00", /trailing data/],
    ["another tag", "0c 01 41", /expected tag 0x04, found 0x0c/],
    ["nothing at all", "", /unexpected end of data/],
  ])("refuses %s", (_name, input, message) => {
    expect(() => readSingle(bytes(input), DER_TAG.octetString, "x")).toThrow(message);
  });

  it("walks consecutive elements and peeks at the next tag", () => {
    const reader = new DerReader(bytes("02 01 05 04 00"));
    expect(reader.peekTag()).toBe(0x02);
    expect(reader.read().tag).toBe(0x02);
    expect(reader.readTagged(0x04, "y")).toHaveLength(0);
    expect(reader.isDone).toBe(true);
    expect(reader.peekTag()).toBeUndefined();
  });
});

describe("INTEGER", () => {
  it.each([
    ["00", 0],
    ["7f", 127],
    ["0080", 128],
    ["0100", 256],
    ["1fffffffffffff", Number.MAX_SAFE_INTEGER],
  ])("%s is %d", (hex, value) => {
    expect(decodeSafeUnsignedInteger(bytes(hex), "svn")).toBe(value);
  });

  it.each([
    ["", /empty/],
    ["0001", /non-minimal/],
    ["ff80", /non-minimal/],
    ["80", /negative/],
    ["ff", /negative/],
    ["20000000000000", /too large/],
    ["00ffffffffffffffff", /too large/],
  ])("refuses %j", (hex, message) => {
    expect(() => decodeSafeUnsignedInteger(bytes(hex), "svn")).toThrow(message);
  });
});

describe("OBJECT IDENTIFIER", () => {
  it.each([
    ["608648016503040202", "2.16.840.1.101.3.4.2.2"],
    ["678105050401", "2.23.133.5.4.1"],
    ["2a864886f70d", "1.2.840.113549"],
    ["00", "0.0"],
    // The verigate claims OID: a 128-bit arc, beyond what asn1js can represent.
    ["698198dbbcd6c5f7a2bcfdbcd1b1d199f9b7bb0a", "2.25.101496288010563348871718732189662043530"],
  ])("%s is %s", (hex, dotted) => {
    expect(decodeObjectIdentifier(bytes(hex), "oid")).toBe(dotted);
  });

  it.each([
    ["", /empty/],
    ["6081", /truncated/],
    ["608001", /non-minimal/],
    ["01".repeat(65), /too long/],
  ])("refuses %j", (hex, message) => {
    expect(() => decodeObjectIdentifier(bytes(hex), "oid")).toThrow(message);
  });
});

describe("BIT STRING", () => {
  it("numbers bits from the most significant bit of the first octet", () => {
    const bits = decodeBitString(bytes("04 10"), "flags");
    expect(bits.length).toBe(4);
    expect([0, 1, 2, 3, 4, 100, -1].map((n) => bits.isSet(n))).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
    ]);
  });

  it("accepts an empty string and fixed-width strings with trailing zero bits", () => {
    expect(decodeBitString(bytes("00"), "flags").length).toBe(0);
    const wide = decodeBitString(bytes("00 10000000"), "flags");
    expect(wide.length).toBe(32);
    expect(wide.isSet(3)).toBe(true);
  });

  it.each([
    ["", /empty/],
    ["08 00", /invalid/],
    ["01", /invalid/],
    ["04 11", /unused bits/],
  ])("refuses %j", (hex, message) => {
    expect(() => decodeBitString(bytes(hex), "flags")).toThrow(message);
  });
});

describe("UTF8String", () => {
  it("decodes UTF-8 and refuses invalid sequences instead of replacing them", () => {
    expect(decodeUtf8(bytes("c3a9"), "s")).toBe("é");
    expect(() => decodeUtf8(bytes("c3"), "s")).toThrow(DerError);
    expect(() => decodeUtf8(bytes("eda080"), "s")).toThrow(/invalid UTF-8/);
  });
});

describe("property: the reader only ever throws DerError", () => {
  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        for (const read of [
          () => readSingle(input, DER_TAG.sequence, "x"),
          () => decodeSafeUnsignedInteger(input, "x"),
          () => decodeObjectIdentifier(input, "x"),
          () => decodeBitString(input, "x"),
          () => {
            const reader = new DerReader(input);
            while (!reader.isDone) reader.read();
          },
        ]) {
          try {
            read();
          } catch (error: unknown) {
            expect(error).toBeInstanceOf(DerError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("readDerTime", () => {
  const utc = (text: string) => ({ tag: 0x17, content: Buffer.from(text, "latin1") });
  const generalized = (text: string) => ({ tag: 0x18, content: Buffer.from(text, "latin1") });

  it.each([
    [utc("250601120000Z"), Date.UTC(2025, 5, 1, 12, 0, 0)],
    [utc("991231235959Z"), Date.UTC(1999, 11, 31, 23, 59, 59)],
    [generalized("20500101000000Z"), Date.UTC(2050, 0, 1)],
  ])("reads %j", (element, expected) => {
    expect(readDerTime(element, "t")).toBe(expected);
  });

  it.each([
    [utc("250231120000Z"), "t: not a valid time"],
    [utc("2506011200Z"), "t: not a UTCTime or GeneralizedTime in RFC 5280 form"],
    [utc("250601120000+0100"), "t: not a UTCTime or GeneralizedTime in RFC 5280 form"],
    [generalized("20250601120060Z"), "t: not a valid time"],
    [
      { tag: 0x04, content: Buffer.from("250601120000Z") },
      "t: not a UTCTime or GeneralizedTime in RFC 5280 form",
    ],
  ])("refuses %j", (element, problem) => {
    expect(() => readDerTime(element, "t")).toThrow(problem);
  });
});
