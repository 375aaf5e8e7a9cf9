import { cbor } from "../../../../support/cbor-encode.js";
import { describe, expect, it } from "vitest";
import {
  CoseError,
  decodeCoseSign1,
  encodeSigStructure,
} from "../../../../../src/claims/evidence/nitro/cose-sign1.js";

const SIGNATURE = `5860${"ab".repeat(96)}`;
const ES384_HEADER = "44 a1013822";
const bytes = (hex: string): Uint8Array =>
  new Uint8Array(Buffer.from(hex.replace(/ /g, ""), "hex"));

/** A COSE_Sign1 from its four items, as hex. */
const cose = (
  protectedHex: string,
  unprotectedHex: string,
  payloadHex: string,
  signatureHex: string,
) => bytes(`84 ${protectedHex} ${unprotectedHex} ${payloadHex} ${signatureHex}`);

describe("decodeCoseSign1", () => {
  it("reads the Nitro shape, untagged", () => {
    const decoded = decodeCoseSign1(cose(ES384_HEADER, "a0", "43 a10102", SIGNATURE));
    expect(Buffer.from(decoded.protectedHeader).toString("hex")).toBe("a1013822");
    expect(Buffer.from(decoded.payload).toString("hex")).toBe("a10102");
    expect(decoded.signature).toHaveLength(96);
  });

  it("reads it with tag 18", () => {
    const decoded = decodeCoseSign1(bytes(`d2 84 ${ES384_HEADER} a0 41 00 ${SIGNATURE}`));
    expect(Buffer.from(decoded.payload).toString("hex")).toBe("00");
  });

  it.each([
    [
      "another tag (COSE_Mac0)",
      `d1 84 ${ES384_HEADER} a0 4100 ${SIGNATURE}`,
      "unexpected CBOR tag 17",
    ],
    ["tag 18 twice", `d2 d2 84 ${ES384_HEADER} a0 4100 ${SIGNATURE}`, "COSE_Sign1 is not an array"],
    ["a map", "a0", "COSE_Sign1 is not an array"],
    ["three items", `83 ${ES384_HEADER} a0 4100`, "COSE_Sign1 has 3 items, not 4"],
    ["five items", `85 ${ES384_HEADER} a0 4100 ${SIGNATURE} 00`, "COSE_Sign1 has 5 items, not 4"],
    [
      "a protected header as a map",
      `84 a10138 22 a0 4100 ${SIGNATURE}`,
      "protected header is not a byte string",
    ],
    ["an empty protected header", `84 40 a0 4100 ${SIGNATURE}`, "protected header: alg missing"],
    [
      "a protected header without alg",
      `84 43 a10401 a0 4100 ${SIGNATURE}`,
      "protected header: alg missing",
    ],
    [
      "alg ES256",
      `84 43 a10126 a0 4100 ${SIGNATURE}`,
      "protected header: alg must be ES384 (-35), got -7",
    ],
    [
      "alg ES512",
      `84 44 a1013823 a0 4100 ${SIGNATURE}`,
      "protected header: alg must be ES384 (-35), got -36",
    ],
    [
      "alg as text",
      `84 48 a101 6545533338 34 a0 4100 ${SIGNATURE}`,
      'protected header: alg must be ES384 (-35), got "ES384"',
    ],
    [
      "alg and a kid",
      `84 47 a2013822 044101 a0 4100 ${SIGNATURE}`,
      "protected header: unexpected parameter 4",
    ],
    [
      "alg and crit",
      `84 47 a2013822 028101 a0 4100 ${SIGNATURE}`,
      "protected header: unexpected parameter 2",
    ],
    [
      "a protected header that is not a map",
      `84 41 80 a0 4100 ${SIGNATURE}`,
      "protected header is not a map",
    ],
    [
      "trailing bytes in the protected header",
      `84 45 a101382200 a0 4100 ${SIGNATURE}`,
      "protected header: trailing data at offset 4",
    ],
    [
      "an unprotected header with a kid",
      `84 ${ES384_HEADER} a1 044101 4100 ${SIGNATURE}`,
      "unprotected header is not empty",
    ],
    [
      "an unprotected header of null",
      `84 ${ES384_HEADER} f6 4100 ${SIGNATURE}`,
      "unprotected header is not a map",
    ],
    [
      "a detached (null) payload",
      `84 ${ES384_HEADER} a0 f6 ${SIGNATURE}`,
      "payload is not a byte string",
    ],
    [
      "an empty payload",
      `84 ${ES384_HEADER} a0 40 ${SIGNATURE}`,
      "payload is 0 bytes, not 1 to 16384",
    ],
    [
      "a 64-byte signature",
      `84 ${ES384_HEADER} a0 4100 5840${"ab".repeat(64)}`,
      "signature is 64 bytes, not 96",
    ],
    ["a signature as an array", `84 ${ES384_HEADER} a0 4100 80`, "signature is not a byte string"],
    [
      "an indefinite-length array",
      `9f ${ES384_HEADER} a0 4100 ${SIGNATURE} ff`,
      "COSE_Sign1: indefinite length at offset 0",
    ],
    [
      "a trailing byte",
      `84 ${ES384_HEADER} a0 4100 ${SIGNATURE} 00`,
      "COSE_Sign1: trailing data at offset 107",
    ],
  ])("refuses %s", (_name, hex, message) => {
    const input = bytes(hex);
    expect(() => decodeCoseSign1(input)).toThrow(CoseError);
    expect(() => decodeCoseSign1(input)).toThrow(message);
  });

  it("refuses a payload over 16384 bytes", () => {
    const payload = `59 4001 ${"00".repeat(16_385)}`;
    expect(() => decodeCoseSign1(cose(ES384_HEADER, "a0", payload, SIGNATURE))).toThrow(
      "payload is 16385 bytes, not 1 to 16384",
    );
  });
});

describe("encodeSigStructure", () => {
  const encoder = cbor;

  // Length heads change at 24, 256 and 65536 bytes: each form must match cbor-x's.
  it.each([0, 1, 23, 24, 255, 256, 65_535, 65_536])(
    "matches cbor-x for a %i-byte payload",
    (size) => {
      const protectedHeader = Buffer.from("a1013822", "hex");
      const payload = Buffer.alloc(size, 7);
      expect(encodeSigStructure(protectedHeader, payload)).toEqual(
        encoder.encode(["Signature1", protectedHeader, Buffer.alloc(0), payload]),
      );
    },
  );
});
