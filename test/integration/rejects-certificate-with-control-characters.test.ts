import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a CA-signed client certificate whose names hold control characters", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("gets 401 when a SAN holds CR LF (header injection bait)", async () => {
    const line = await expectDenied(
      h,
      { as: h.pki.clients.controlCharsInSan, path: "/private" },
      401,
      ["client-certificate-malformed"],
    );
    expect(JSON.stringify(line)).not.toContain("x-injected");
  });

  it("gets 401 when a SAN holds NUL (name truncation bait)", async () => {
    expect(
      (
        await expectDenied(h, { as: h.pki.clients.nulInSan, path: "/private" }, 401, [
          "client-certificate-malformed",
        ])
      ).identitySource,
    ).toBe("none");
  });
});
