import { describe, expect, it } from "vitest";
import type { CompiledRoute } from "../../../src/config/snapshot.js";
import { compilePolicy } from "../../../src/policy/compile-policy.js";
import { buildRouteTable } from "../../../src/proxy/route-table.js";
import { buildCaseClaims, decideCase } from "../../../src/policy-cases/decide-case.js";
import type { CaseClaims } from "../../../src/policy-cases/load-cases.js";

/** A route as decideCase reads it: name, place, identity gate and policy (no upstream). */
function route(name: string, identity: "required" | "optional", policy: unknown): CompiledRoute {
  const compiled = compilePolicy(policy, {
    path: "policy",
    route: name,
    lists: new Map([["v3", ["ab12"]]]),
  });
  if (compiled.policy === undefined) throw new Error(JSON.stringify(compiled.problems));
  return {
    name,
    where: `routes[${name}]`,
    identity,
    policy: compiled.policy,
  } as unknown as CompiledRoute;
}

const { table } = buildRouteTable([
  {
    host: "payroll.localhost",
    pathPrefix: "/api/",
    where: "routes[0]",
    value: route("api", "required", {
      allow: [
        {
          "identity.groups": { has: "finance" },
          "tee.debug": false,
          "tee.measurement": { inList: "v3" },
        },
      ],
      deny: [{ "device.diskEncrypted": false }],
    }),
  },
  {
    host: "status.localhost",
    pathPrefix: "/",
    where: "routes[1]",
    value: route("status", "optional", {
      allow: [{ "request.method": "GET", "request.sourceIp": { cidr: ["127.0.0.0/8"] } }],
    }),
  },
]);
const snapshot = { routeTable: table };

const finance: CaseClaims = {
  identity: { groups: ["finance"] },
  tee: { debug: false, measurement: "ab12" },
};

describe("decideCase", () => {
  it.each([
    ["allow", "payroll.localhost", "/api/pay", finance, "allow", ["allowed-by-rule"], "api", 200],
    [
      "dot segments resolved first",
      "PAYROLL.localhost:8443",
      "/x/../api/pay",
      finance,
      "allow",
      ["allowed-by-rule"],
      "api",
      200,
    ],
    [
      "debug TEE",
      "payroll.localhost",
      "/api/pay",
      { ...finance, tee: { debug: true, measurement: "ab12" } },
      "deny",
      ["no-matching-rule", "attestation-debug-enabled"],
      "api",
      403,
    ],
    [
      "deny rule wins",
      "payroll.localhost",
      "/api/pay",
      { ...finance, device: { diskEncrypted: false } },
      "deny",
      ["denied-by-rule", "posture-failed"],
      "api",
      403,
    ],
    [
      "no identity on a required route",
      "payroll.localhost",
      "/api/pay",
      { tee: finance.tee },
      "deny",
      ["identity-required"],
      "api",
      401,
    ],
    ["no route", "payroll.localhost", "/other", finance, "deny", ["no-route"], "", 404],
    [
      "malformed path",
      "payroll.localhost",
      "/api/%2e%2e%2fsecret\\",
      finance,
      "deny",
      ["malformed-request"],
      "",
      400,
    ],
    [
      "malformed host",
      "payroll.localhost:0",
      "/api/pay",
      finance,
      "deny",
      ["malformed-request"],
      "",
      400,
    ],
    [
      "verigate endpoint",
      "payroll.localhost",
      "/.well-known/verigate/nonce",
      {},
      "allow",
      ["served-by-verigate"],
      "",
      200,
    ],
    [
      "anonymous on an optional route, default source 127.0.0.1",
      "status.localhost",
      "/",
      {},
      "allow",
      ["allowed-by-rule"],
      "status",
      200,
    ],
    [
      "source address from the case",
      "status.localhost",
      "/",
      { request: { sourceIp: "10.0.0.1" } },
      "deny",
      ["no-matching-rule"],
      "status",
      403,
    ],
  ] as const)("%s", (_what, host, path, claims, effect, reasons, routeName, status) => {
    const decision = decideCase(snapshot, { host, path, method: "GET" }, claims, {
      now: 5,
    });
    expect({
      effect: decision.effect,
      reasons: decision.reasons,
      route: decision.route,
      status: decision.status,
    }).toEqual({
      effect,
      reasons,
      route: routeName,
      status,
    });
  });

  it("explains every rule and criterion, matched or not", () => {
    const decision = decideCase(
      snapshot,
      { host: "payroll.localhost", path: "/api/pay", method: "GET" },
      { ...finance, tee: { debug: true, measurement: "ab12" } },
      { explain: true },
    );
    expect(decision.decision?.ruleTrace.map((r) => [r.rule, r.matched, r.criteria.length])).toEqual(
      [
        ["deny[0]", false, 1],
        ["allow[0]", false, 3],
      ],
    );
  });
});

describe("buildCaseClaims", () => {
  const request = { method: "GET", path: "/", host: "h" };
  it("makes a certificate identity when identity fields are given, none otherwise", () => {
    expect(buildCaseClaims({ identity: { commonName: "alice" } }, request, 7).identity).toEqual({
      source: "certificate",
      commonName: "alice",
    });
    expect(
      buildCaseClaims({ identity: { source: "token", subject: "s" } }, request, 7).identity,
    ).toEqual({
      source: "token",
      subject: "s",
    });
    expect(buildCaseClaims({}, request, 7)).toEqual({
      identity: { source: "none" },
      request: { ...request, sourceIp: "127.0.0.1", time: 7 },
    });
  });
});
