import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_CLAIMS_JSON_BYTES,
  parseVerigateClaimsExtension,
} from "../../../src/claims/verigate-claims-extension.js";
import { der, TEST_MEASUREMENT } from "../../support/pki.js";

/** The extension value for `json`: a DER UTF8String. */
const utf8String = (json: string): Uint8Array => der(0x0c, Buffer.from(json, "utf8"));
const parse = (value: unknown): ReturnType<typeof parseVerigateClaimsExtension> =>
  parseVerigateClaimsExtension(utf8String(JSON.stringify(value)));

describe("parseVerigateClaimsExtension: well-typed statements", () => {
  it("reads every known device and tee field", () => {
    expect(
      parse({
        device: {
          id: "laptop-42",
          managed: true,
          compliant: false,
          os: "macOS",
          osVersion: "14.2.1",
          diskEncrypted: true,
          firewall: false,
          screenLock: true,
        },
        tee: {
          platform: "tdx",
          measurement: TEST_MEASUREMENT.toUpperCase(),
          debug: false,
          tcbStatus: "OutOfDate",
          svn: 0,
        },
      }),
    ).toEqual({
      ok: true,
      statement: {
        device: {
          id: "laptop-42",
          managed: true,
          compliant: false,
          os: "macOS",
          osVersion: "14.2.1",
          diskEncrypted: true,
          firewall: false,
          screenLock: true,
        },
        // The measurement comes back lowercase.
        tee: {
          platform: "tdx",
          measurement: TEST_MEASUREMENT,
          debug: false,
          tcbStatus: "OutOfDate",
          svn: 0,
        },
        ignoredFields: [],
      },
    });
  });

  it("puts unknown fields under claims, as given (a __proto__ key stays an own property)", () => {
    const result = parseVerigateClaimsExtension(
      utf8String(
        '{"device":{"managed":true,"mdm":"intune","__proto__":{"isAdmin":true}},"tee":{"x-ms-policy":{"pcrs":[1,2]}}}',
      ),
    );
    expect(result).toEqual({
      ok: true,
      statement: {
        device: { managed: true, claims: { mdm: "intune", ["__proto__"]: { isAdmin: true } } },
        tee: { claims: { "x-ms-policy": { pcrs: [1, 2] } } },
        ignoredFields: [],
      },
    });
    if (!result.ok) return;
    const raw = result.statement.device?.claims ?? {};
    expect(Object.hasOwn(raw, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
    expect(Object.isFrozen(raw)).toBe(true);
    expect(Object.isFrozen((raw as Record<string, unknown>)["__proto__"])).toBe(true);
  });

  it("treats an empty section as absent and lists unknown top-level fields", () => {
    expect(parse({ device: {}, tee: { debug: true }, tees: {}, version: 2 })).toEqual({
      ok: true,
      statement: { tee: { debug: true }, ignoredFields: ["tees", "version"] },
    });
    expect(parse({})).toEqual({ ok: true, statement: { ignoredFields: [] } });
  });

  it("accepts the JSON up to the size limit", () => {
    const padding = "x".repeat(MAX_CLAIMS_JSON_BYTES - '{"device":{"pad":""}}'.length);
    const result = parse({ device: { pad: padding } });
    expect(result.ok).toBe(true);
  });
});

describe("parseVerigateClaimsExtension: one wrong field refuses the whole extension", () => {
  /** A good statement with one field replaced: nothing of it may survive. */
  const withField = (section: "device" | "tee", name: string, value: unknown): unknown => {
    const good = {
      device: { managed: true, compliant: true },
      tee: { platform: "sev-snp", measurement: TEST_MEASUREMENT, debug: false },
    };
    return { ...good, [section]: { ...good[section], [name]: value } };
  };
  const HEX_PROBLEM = "must be an even-length hex string of 1 to 128 bytes";
  const VERSION_PROBLEM = 'must be a dotted version string such as "6.8.0"';
  const RESERVED = "is set by verigate, not by a certificate";
  it.each([
    ["a string boolean", "tee", "debug", "false", "tee.debug must be a boolean"],
    ["a numeric boolean", "device", "managed", 1, "device.managed must be a boolean"],
    ["null", "device", "compliant", null, "device.compliant must be a boolean"],
    ["a negative svn", "tee", "svn", -1, "tee.svn must be a non-negative integer"],
    ["a fractional svn", "tee", "svn", 1.5, "tee.svn must be a non-negative integer"],
    ["an unsafe svn", "tee", "svn", 2 ** 53, "tee.svn must be a non-negative integer"],
    ["a string svn", "tee", "svn", "3", "tee.svn must be a non-negative integer"],
    ["odd-length hex", "tee", "measurement", "abc", `tee.measurement ${HEX_PROBLEM}`],
    ["non-hex", "tee", "measurement", "zz", `tee.measurement ${HEX_PROBLEM}`],
    ["too long a digest", "tee", "measurement", "00".repeat(129), `tee.measurement ${HEX_PROBLEM}`],
    ["a numeric osVersion", "device", "osVersion", 14.2, `device.osVersion ${VERSION_PROBLEM}`],
    [
      "a non-dotted osVersion",
      "device",
      "osVersion",
      "14.2-beta",
      `device.osVersion ${VERSION_PROBLEM}`,
    ],
    [
      "CR/LF in a string",
      "device",
      "os",
      "linux\r\nx-injected: 1",
      "device.os holds a control character",
    ],
    [
      "NUL in a string",
      "tee",
      "platform",
      "sev-snp\u0000",
      "tee.platform holds a control character",
    ],
    ["a C1 control in a string", "device", "id", "a\u0085b", "device.id holds a control character"],
    ["an empty string", "tee", "tcbStatus", "", "tee.tcbStatus must be 1 to 256 characters"],
    ["a long string", "device", "id", "x".repeat(257), "device.id must be 1 to 256 characters"],
    ["a number for a string", "tee", "platform", 7, "tee.platform must be a string"],
    ["issuer", "tee", "issuer", "maa", `tee.issuer ${RESERVED}`],
    ["age", "device", "age", 0, `device.age ${RESERVED}`],
    ["boundToClientCert", "tee", "boundToClientCert", true, `tee.boundToClientCert ${RESERVED}`],
    ["claims", "device", "claims", {}, `device.claims ${RESERVED}`],
    ["dice", "tee", "dice", {}, `tee.dice ${RESERVED}`],
    [
      "deeply nested raw claims",
      "tee",
      "deep",
      JSON.parse("[".repeat(17) + "]".repeat(17)),
      "tee.deep nests deeper than 16",
    ],
  ] as const)("%s", (_name, section, field, value, problem) => {
    expect(parse(withField(section, field, value))).toEqual({ ok: false, problem });
  });

  it.each([
    ["an array device section", { device: [true] }, "device must be an object"],
    ["a string tee section", { tee: "sev-snp" }, "tee must be an object"],
  ])("%s", (_name, value, problem) => {
    expect(parse(value)).toEqual({ ok: false, problem });
  });

  it.each([
    ["JSON that is not an object", utf8String("[1,2]"), "the JSON is not an object"],
    ["JSON null", utf8String("null"), "the JSON is not an object"],
    ["invalid JSON", utf8String('{"device":'), "not valid JSON"],
    ["a byte-order mark", utf8String('\ufeff{"device":{}}'), "not valid JSON"],
    [
      "an OCTET STRING",
      der(0x04, Buffer.from("{}")),
      "not a DER UTF8String: the value: expected tag 0x0c, found 0x04",
    ],
    [
      "junk bytes",
      new Uint8Array([0xfe, 0x01, 0xc0]),
      "not a DER UTF8String: the value: expected tag 0x0c, found 0xfe",
    ],
    [
      "a multi-byte tag",
      new Uint8Array([0xff, 0x00, 0xc0]),
      "not a DER UTF8String: multi-byte tags are not supported",
    ],
    [
      "trailing bytes",
      new Uint8Array([...utf8String("{}"), 0]),
      "not a DER UTF8String: the value: trailing data",
    ],
    [
      "invalid UTF-8",
      der(0x0c, Buffer.from([0x7b, 0xc3, 0x7d])),
      "not a DER UTF8String: the UTF8String: invalid UTF-8",
    ],
    [
      "an oversized JSON",
      utf8String(JSON.stringify({ device: { pad: "x".repeat(MAX_CLAIMS_JSON_BYTES) } })),
      `larger than ${MAX_CLAIMS_JSON_BYTES} bytes`,
    ],
  ])("refuses %s", (_name, value, problem) => {
    expect(parseVerigateClaimsExtension(value)).toEqual({ ok: false, problem });
  });
});

describe("property: parseVerigateClaimsExtension never throws", () => {
  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const result = parseVerigateClaimsExtension(bytes);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });

  it("on arbitrary JSON, and whatever it accepts is well typed", () => {
    const section = fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          "id",
          "managed",
          "os",
          "osVersion",
          "platform",
          "measurement",
          "debug",
          "svn",
          "tcbStatus",
        ),
        fc.string({ maxLength: 8 }),
      ),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(
        fc.record({ device: section, tee: section }, { requiredKeys: [] }),
        (statement) => {
          const result = parse(statement);
          if (!result.ok) return;
          const { device, tee } = result.statement;
          for (const key of [
            "managed",
            "compliant",
            "diskEncrypted",
            "firewall",
            "screenLock",
          ] as const) {
            expect(device?.[key] === undefined || typeof device[key] === "boolean").toBe(true);
          }
          expect(tee?.debug === undefined || typeof tee.debug === "boolean").toBe(true);
          expect(tee?.svn === undefined || Number.isSafeInteger(tee.svn)).toBe(true);
          expect(tee?.measurement === undefined || /^([0-9a-f]{2})+$/.test(tee.measurement)).toBe(
            true,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
