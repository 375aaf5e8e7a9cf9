import { describe, expect, expectTypeOf, it } from "vitest";
import type {
  Claims,
  DeviceClaims,
  IdentityClaims,
  RequestClaims,
  TeeClaims,
} from "../../../src/claims/claims.js";
import { ATTRIBUTES, compileAttribute } from "../../../src/policy/attributes.js";
import { makeClaims } from "./claims-fixture.js";

type ClaimPaths =
  | `identity.${keyof IdentityClaims}`
  | `device.${Exclude<keyof DeviceClaims, "claims">}`
  | `tee.${Exclude<keyof TeeClaims, "claims">}`
  | `request.${keyof RequestClaims}`;

describe("the attribute vocabulary", () => {
  it("names exactly the fields of the Claims type", () => {
    // Checked by tsc: a field added to Claims needs a type here, and the other way round.
    expectTypeOf<keyof typeof ATTRIBUTES>().toEqualTypeOf<ClaimPaths>();
    expect(Object.keys(ATTRIBUTES)).toHaveLength(32);
  });

  it.each([
    ["identity.groups", "string-list"],
    ["identity.emails", "string-list"],
    ["identity.dnsNames", "string-list"],
    ["identity.subject", "string"],
    ["device.managed", "boolean"],
    ["device.osVersion", "version"],
    ["device.age", "duration"],
    ["tee.age", "duration"],
    ["tee.svn", "number"],
    ["tee.debug", "boolean"],
    ["request.sourceIp", "ip"],
    ["request.time", "time"],
    ["device.claims", "any"],
    ["tee.claims.x-ms-sevsnpvm-hostdata", "any"],
    ["tee.claims.a.b.c", "any"],
  ])("%s is a %s", (name, type) => {
    expect(compileAttribute(name)?.type).toBe(type);
  });

  it.each([
    "tee.measurment",
    "identity",
    "tee",
    "device.claimsx",
    "device.claims.",
    "device.claims..x",
    "tee.claims.a.",
    "request.sourceIp.x",
    "__proto__",
    "constructor",
    "toString",
    "identity.__proto__",
    "",
  ])("%j is unknown", (name) => {
    expect(compileAttribute(name)).toBeUndefined();
  });
});

describe("reading attributes", () => {
  const claims = makeClaims({
    identity: { groups: ["finance"] },
    device: { managed: true, claims: { os: { build: "23B81" }, pcrs: ["aa", "bb"] } },
    tee: { platform: "sev-snp", claims: { "x-ms-sevsnpvm-hostdata": "00ff", nothing: null } },
  });

  it.each([
    ["identity.groups", ["finance"]],
    ["identity.source", "certificate"],
    ["identity.subject", undefined],
    ["device.managed", true],
    ["tee.platform", "sev-snp"],
    ["request.sourceIp", "10.0.0.1"],
    ["device.claims.os.build", "23B81"],
    ["device.claims.pcrs.1", "bb"],
    ["device.claims.pcrs.length", 2],
    ["device.claims.os.build.length", undefined],
    ["device.claims.os.missing", undefined],
    ["device.claims.os.build.deeper", undefined],
    ["tee.claims.x-ms-sevsnpvm-hostdata", "00ff"],
    ["tee.claims.nothing", null],
    ["tee.claims.nothing.below", undefined],
  ])("%s reads %j", (name, value) => {
    expect(compileAttribute(name)?.read(claims)).toEqual(value);
  });

  it("reads undefined when a whole section is absent", () => {
    expect(compileAttribute("tee.debug")?.read(makeClaims())).toBeUndefined();
    expect(compileAttribute("tee.claims.a.b")?.read(makeClaims())).toBeUndefined();
  });

  it.each([
    "device.claims.__proto__",
    "device.claims.constructor",
    "device.claims.toString",
    "device.claims.hasOwnProperty",
    "device.claims.os.__proto__.polluted",
    "device.claims.constructor.prototype",
    "tee.claims.__proto__.toString",
  ])("never follows inherited properties: %s", (name) => {
    expect(compileAttribute(name)?.read(claims)).toBeUndefined();
  });

  it("reads an own __proto__ key, as JSON.parse creates it, as plain data", () => {
    const tee = JSON.parse('{"claims": {"__proto__": {"admin": true}}}') as Record<string, unknown>;
    const withOwnProto = makeClaims({ tee });
    expect(compileAttribute("tee.claims.__proto__.admin")?.read(withOwnProto)).toBe(true);
    expect(compileAttribute("tee.claims.admin")?.read(withOwnProto)).toBeUndefined();
  });

  it("does not see a polluted Object.prototype", () => {
    const prototype = Object.prototype as Record<string, unknown>;
    prototype["pollutedClaim"] = "yes";
    try {
      expect(compileAttribute("device.claims.pollutedClaim")?.read(claims)).toBeUndefined();
    } finally {
      delete prototype["pollutedClaim"];
    }
  });

  it("reads malformed claims without throwing", () => {
    const read = compileAttribute("tee.claims.a")?.read;
    for (const broken of [null, undefined, 5, "x", [], { tee: 5 }, { tee: { claims: "x" } }]) {
      expect(read?.(broken as unknown as Claims)).toBeUndefined();
    }
  });
});
