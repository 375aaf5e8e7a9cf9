import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readSignedJson } from "../../../../../src/claims/evidence/tdx/signed-json.js";

const SIGNATURE = "ab".repeat(64);
const body = (member: string): string => `{"tcbInfo":${member},"signature":"${SIGNATURE}"}`;

describe("readSignedJson", () => {
  it("returns the member's exact text, its signature and the document parsed from that text", () => {
    const member = '{ "b" : [1, 2.5e3, "x\\u0041"], "a":{"c":null} }';
    const read = readSignedJson(` \n${body(member)}\n`, "tcbInfo");
    expect(read).toEqual({
      ok: true,
      signed: {
        signedText: member,
        signature: Buffer.from(SIGNATURE, "hex"),
        document: { b: [1, 2500, "xA"], a: { c: null } },
      },
    });
  });

  it("takes the signed text and hex signature apart too", () => {
    const read = readSignedJson({ signedText: '{"id":"TDX"}', signatureHex: SIGNATURE }, "tcbInfo");
    expect(read.ok && read.signed.document).toEqual({ id: "TDX" });
  });

  it("finds the exact text of any JSON object", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const text = JSON.stringify(object);
        const read = readSignedJson(body(text), "tcbInfo");
        expect(read.ok && read.signed.signedText).toBe(text);
      }),
    );
  });

  it.each([
    ["a duplicate name deep inside", body('{"a":{"b":1,"b":2}}'), 'tcbInfo: duplicate member "b"'],
    ["a leading zero", body('{"a":01}'), 'tcbInfo: expected "}" at 17'],
    ["a trailing comma", body('{"a":1,}'), "tcbInfo: expected a member name at 18"],
    ["single quotes", body("{'a':1}"), "tcbInfo: expected a member name at 12"],
    [
      "a raw control character in a string",
      body('{"a":"\u0001"}'),
      "tcbInfo: expected a string at 16",
    ],
    [
      "nesting past 32 levels",
      body(`${"[".repeat(40)}${"]".repeat(40)}`),
      "tcbInfo: nested too deeply",
    ],
    [
      "a short signature",
      `{"tcbInfo":{},"signature":"abcd"}`,
      "tcbInfo: signature is not 64 bytes of hex (r||s)",
    ],
    [
      "a signature that is not a string",
      `{"tcbInfo":{},"signature":1}`,
      "tcbInfo: signature is not a string",
    ],
    [
      "a member that is not an object",
      body("[]"),
      "tcbInfo: the signed tcbInfo is not a JSON object",
    ],
    ["an array body", "[]", "tcbInfo: not a JSON object"],
  ])("refuses %s", (_name, text, problem) => {
    expect(readSignedJson(text, "tcbInfo")).toEqual({ ok: false, problem });
  });

  it("never throws", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        readSignedJson(text, "tcbInfo");
        readSignedJson(body(text), "tcbInfo");
        readSignedJson({ signedText: text, signatureHex: SIGNATURE }, "tcbInfo");
      }),
    );
  });
});
