import { describe, expect, it } from "vitest";
import { findRawClaimsRoutes } from "../../../src/replay/raw-claims-routes.js";
import { route } from "./replay-fixture.js";

describe("findRawClaimsRoutes", () => {
  it("finds raw claims anywhere in a policy: allow and deny rules, nested any, all and not", () => {
    const routes = [
      route("plain", { allow: [{ "tee.debug": false, "device.managed": true }] }),
      route("snp", {
        allow: [
          {
            "tee.platform": "sev-snp",
            any: [{ "tee.claims.vmpl": 0 }, { "tee.claims.pcrs.8": "ab" }],
          },
          { all: [{ not: { "tee.claims.vmpl": 3 } }] },
        ],
      }),
      route("devices", {
        allow: [{ "identity.commonName": "alice" }],
        deny: [{ "device.claims": { present: false } }],
      }),
      route("empty", null),
    ];
    expect(findRawClaimsRoutes(routes)).toEqual([
      { route: "snp", attributes: ["tee.claims.pcrs.8", "tee.claims.vmpl"] },
      { route: "devices", attributes: ["device.claims"] },
    ]);
  });

  it("finds nothing when no route reads raw claims", () => {
    expect(
      findRawClaimsRoutes([route("hr", { allow: [{ "tee.measurement": { prefix: "ab" } }] })]),
    ).toEqual([]);
  });
});
