import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readCertificateExtensions } from "../../../src/claims/certificate-extensions.js";
import {
  DICE_TCB_INFO_OID,
  MAX_DICE_TCB_INFO_BYTES,
  parseDiceTcbInfo,
  teeStatementFromDiceTcbInfo,
} from "../../../src/claims/dice-tcb-info.js";
import { der, TEST_MEASUREMENT } from "../../support/pki.js";

const NVIDIA_CHAIN = new URL(
  "../../../../shared/vectors/dice/nvidia-hopper-cert-chain-case1.pem",
  import.meta.url,
);

const SHA256 = Buffer.from("608648016503040201", "hex");
const SHA384 = Buffer.from("608648016503040202", "hex");
const DIGEST_384 = Buffer.from(TEST_MEASUREMENT, "hex");
const DIGEST_256 = Buffer.alloc(32, 0xab);

const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");
const fwid = (alg: Uint8Array, digest: Uint8Array): Uint8Array =>
  der(0x30, der(0x06, alg), der(0x04, digest));
/** A DiceTcbInfo from its fields' elements (each already tagged). */
const tcbInfo = (...fields: Uint8Array[]): Uint8Array => der(0x30, ...fields);
const fwids = (...list: Uint8Array[]): Uint8Array => der(0xa6, ...list);
/** OperationalFlags / OperationalFlagsMask content: unused-bit count, then the bits. */
const bits = (hex: string): Buffer => Buffer.from(hex, "hex");
const flags = (hex: string): Uint8Array => der(0x87, bits(hex));
const mask = (hex: string): Uint8Array => der(0x8a, bits(hex));
const MEASURED = fwids(fwid(SHA384, DIGEST_384));

const NO_FLAGS = {
  notConfigured: false,
  notSecure: false,
  recovery: false,
  debug: false,
  notReplayProtected: false,
  notIntegrityProtected: false,
  notRuntimeMeasured: false,
  notImmutable: false,
  notTcb: false,
};

describe("parseDiceTcbInfo", () => {
  it("reads every field of a complete DiceTcbInfo", () => {
    const value = tcbInfo(
      der(0x80, utf8("Contoso")),
      der(0x81, utf8("Widget")),
      der(0x82, utf8("1.2.3")),
      der(0x83, Buffer.from([0x00, 0x80])),
      der(0x84, Buffer.from([1])),
      der(0x85, Buffer.from([0])),
      fwids(
        fwid(SHA384, DIGEST_384),
        fwid(SHA256, DIGEST_256),
        fwid(Buffer.from("2a03", "hex"), Buffer.from("01", "hex")),
      ),
      flags("0052"),
      der(0x88, Buffer.from("cafe", "hex")),
      der(0x89, Buffer.from("0102", "hex")),
      mask("00ff80"),
      der(0xab, der(0x30, der(0x16, utf8("pcr0")))),
    );
    const result = parseDiceTcbInfo(value);
    expect(result).toEqual({
      ok: true,
      tcbInfo: {
        vendor: "Contoso",
        model: "Widget",
        version: "1.2.3",
        svn: 128,
        layer: 1,
        index: 0,
        fwids: [
          { hashAlg: "sha384", digest: TEST_MEASUREMENT },
          { hashAlg: "sha256", digest: "ab".repeat(32) },
          // Later FWIDs of an unknown algorithm stay, named by OID.
          { hashAlg: "1.2.3", digest: "01" },
        ],
        // 0x52 = 0101 0010: bits 1, 3 and 6.
        flags: { ...NO_FLAGS, notSecure: true, debug: true, notRuntimeMeasured: true },
        vendorInfo: "cafe",
        type: "0102",
        flagsMask: {
          notConfigured: true,
          notSecure: true,
          recovery: true,
          debug: true,
          notReplayProtected: true,
          notIntegrityProtected: true,
          notRuntimeMeasured: true,
          notImmutable: true,
          notTcb: true,
        },
        // Kept as the IrList's DER content, not interpreted.
        integrityRegisters: "3006160470637230",
      },
    });
    expect(result.ok && teeStatementFromDiceTcbInfo(result.tcbInfo)).toEqual({
      platform: "dice",
      measurement: TEST_MEASUREMENT,
      debug: true,
      svn: 128,
    });
  });

  it("an empty DiceTcbInfo says nothing but its platform", () => {
    const result = parseDiceTcbInfo(tcbInfo());
    expect(result).toEqual({ ok: true, tcbInfo: {} });
    expect(result.ok && teeStatementFromDiceTcbInfo(result.tcbInfo)).toEqual({ platform: "dice" });
  });

  it.each([
    ["no flags field: debug unknown", [], undefined],
    ["an empty flags field: debug off", [flags("00")], false],
    ["the minimal DER debug flag", [flags("0410")], true],
    ["another flag only", [flags("0640")], false],
    ["a fixed-width (32-bit) flags field", [flags("0010000001")], true],
    ["debug masked in", [flags("0410"), mask("0410")], true],
    ["debug masked in, flag off", [flags("00"), mask("0410")], false],
    ["debug masked out", [flags("0410"), mask("0640")], undefined],
    ["an empty mask", [flags("0410"), mask("00")], undefined],
    ["a mask without flags", [mask("0410")], undefined],
  ])("%s", (_name, fields, debug) => {
    const result = parseDiceTcbInfo(tcbInfo(MEASURED, ...fields));
    expect(result.ok).toBe(true);
    expect(result.ok && teeStatementFromDiceTcbInfo(result.tcbInfo).debug).toBe(debug);
  });

  it.each([
    [
      "NVIDIA's layout (INTEGER, SPKI, SEQUENCE { OID, OCTET STRING })",
      der(
        0x30,
        der(0x02, Buffer.from([1])),
        der(0x30, der(0x30, der(0x06, SHA384)), der(0x03, Buffer.from([0, 4]))),
        fwid(SHA384, DIGEST_384),
      ),
      "not a DiceTcbInfo: unexpected tag 0x02",
    ],
    [
      "fields out of order",
      tcbInfo(MEASURED, der(0x83, Buffer.from([1]))),
      "not a DiceTcbInfo: field [3]: out of order or repeated",
    ],
    [
      "a repeated field",
      tcbInfo(der(0x83, Buffer.from([1])), der(0x83, Buffer.from([2]))),
      "not a DiceTcbInfo: field [3]: out of order or repeated",
    ],
    [
      "an EXPLICIT-tagged svn",
      tcbInfo(der(0xa3, der(0x02, Buffer.from([1])))),
      "not a DiceTcbInfo: field [3]: wrong encoding (primitive/constructed)",
    ],
    [
      "a primitive fwids",
      tcbInfo(der(0x86, Buffer.from([0]))),
      "not a DiceTcbInfo: field [6]: wrong encoding (primitive/constructed)",
    ],
    [
      "integrityRegisters at [10] (v1.2 body text)",
      tcbInfo(der(0xaa, der(0x30))),
      "not a DiceTcbInfo: field [10]: wrong encoding (primitive/constructed)",
    ],
    [
      "an unknown field [12]",
      tcbInfo(der(0x8c, Buffer.from([0]))),
      "not a DiceTcbInfo: unexpected tag 0x8c",
    ],
    [
      "an application-class tag",
      tcbInfo(der(0x40, Buffer.from([0]))),
      "not a DiceTcbInfo: unexpected tag 0x40",
    ],
    ["an empty FWIDLIST", tcbInfo(fwids()), "not a DiceTcbInfo: fwids: empty FWIDLIST"],
    [
      "a sha384 digest of 32 bytes",
      tcbInfo(fwids(fwid(SHA384, DIGEST_256))),
      "not a DiceTcbInfo: FWID digest: 32 bytes for sha384",
    ],
    [
      "an empty digest",
      tcbInfo(fwids(fwid(Buffer.from("2a03", "hex"), Buffer.alloc(0)))),
      "not a DiceTcbInfo: FWID digest: 0 bytes",
    ],
    [
      "an oversized digest",
      tcbInfo(fwids(fwid(Buffer.from("2a03", "hex"), Buffer.alloc(65)))),
      "not a DiceTcbInfo: FWID digest: 65 bytes",
    ],
    [
      "a first FWID of an unknown algorithm",
      tcbInfo(fwids(fwid(Buffer.from("2a03", "hex"), DIGEST_256))),
      "first FWID uses an unaccepted hash algorithm 1.2.3",
    ],
    [
      "an FWID with trailing data",
      tcbInfo(
        fwids(der(0x30, der(0x06, SHA384), der(0x04, DIGEST_384), der(0x05, Buffer.alloc(0)))),
      ),
      "not a DiceTcbInfo: FWID: trailing data",
    ],
    [
      "an FWID without digest",
      tcbInfo(fwids(der(0x30, der(0x06, SHA384)))),
      "not a DiceTcbInfo: unexpected end of data",
    ],
    [
      "33 FWIDs",
      tcbInfo(fwids(...Array<Uint8Array>(33).fill(fwid(SHA256, DIGEST_256)))),
      "not a DiceTcbInfo: fwids: more than 32",
    ],
    [
      "a negative svn",
      tcbInfo(der(0x83, Buffer.from([0xff]))),
      "not a DiceTcbInfo: svn: negative INTEGER",
    ],
    [
      "an svn beyond 2^53",
      tcbInfo(der(0x83, Buffer.from("20000000000000", "hex"))),
      "not a DiceTcbInfo: svn: INTEGER too large",
    ],
    [
      "a non-minimal layer",
      tcbInfo(der(0x84, Buffer.from([0, 1]))),
      "not a DiceTcbInfo: layer: non-minimal INTEGER",
    ],
    [
      "a vendor with CR/LF",
      tcbInfo(der(0x80, utf8("Contoso\r\nx: 1"))),
      "not a DiceTcbInfo: vendor: holds a control character",
    ],
    [
      "a model of invalid UTF-8",
      tcbInfo(der(0x81, Buffer.from([0xc3]))),
      "not a DiceTcbInfo: model: invalid UTF-8",
    ],
    [
      "flags with non-zero unused bits",
      tcbInfo(flags("0411")),
      "not a DiceTcbInfo: flags: non-zero unused bits in BIT STRING",
    ],
    [
      "trailing data after the SEQUENCE",
      new Uint8Array([...tcbInfo(), 0]),
      "not a DiceTcbInfo: DiceTcbInfo: trailing data",
    ],
    [
      "a SET instead of a SEQUENCE",
      der(0x31),
      "not a DiceTcbInfo: DiceTcbInfo: expected tag 0x30, found 0x31",
    ],
    [
      "an oversized value",
      tcbInfo(der(0x88, Buffer.alloc(MAX_DICE_TCB_INFO_BYTES))),
      `larger than ${MAX_DICE_TCB_INFO_BYTES} bytes`,
    ],
  ])("refuses %s", (_name, value, problem) => {
    expect(parseDiceTcbInfo(value)).toEqual({ ok: false, problem });
  });

  it("refuses the real NVIDIA GH100 leaf's extension under the same OID", async () => {
    const pem = await readFile(NVIDIA_CHAIN, "utf8");
    const [leaf] = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const der = Buffer.from(leaf?.replace(/-----[A-Z ]+-----|\s/g, "") ?? "", "base64");
    const extension = readCertificateExtensions(der).find((e) => e.oid === DICE_TCB_INFO_OID);
    expect(extension?.value.length).toBe(189);
    expect(parseDiceTcbInfo(extension?.value ?? new Uint8Array())).toEqual({
      ok: false,
      problem: "not a DiceTcbInfo: unexpected tag 0x02",
    });
  });
});

describe("property: parseDiceTcbInfo never throws", () => {
  const valid = tcbInfo(
    der(0x80, utf8("v")),
    der(0x83, Buffer.from([3])),
    fwids(fwid(SHA384, DIGEST_384), fwid(SHA256, DIGEST_256)),
    flags("0410"),
    mask("0410"),
  );

  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        expect(typeof parseDiceTcbInfo(bytes).ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });

  it("on a valid DiceTcbInfo with bytes changed, cut or appended", () => {
    expect(parseDiceTcbInfo(valid).ok).toBe(true);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 4,
        }),
        fc.nat(valid.length),
        fc.uint8Array({ maxLength: 8 }),
        (changes, cut, tail) => {
          const bytes = new Uint8Array([...valid.subarray(0, cut), ...tail]);
          for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
          const result = parseDiceTcbInfo(bytes);
          if (result.ok) {
            const tee = teeStatementFromDiceTcbInfo(result.tcbInfo);
            expect(tee.svn === undefined || Number.isSafeInteger(tee.svn)).toBe(true);
            expect(tee.measurement === undefined || /^([0-9a-f]{2})+$/.test(tee.measurement)).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
