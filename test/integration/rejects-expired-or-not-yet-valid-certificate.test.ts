import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a client certificate outside its validity period", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("gets 401 when expired", async () => {
    expect(
      (
        await expectDenied(h, { as: h.pki.clients.expired, path: "/private" }, 401, [
          "client-certificate-expired",
        ])
      ).identitySource,
    ).toBe("none");
  });

  it("gets 401 when not yet valid", async () => {
    expect(
      (
        await expectDenied(h, { as: h.pki.clients.notYetValid, path: "/private" }, 401, [
          "client-certificate-not-yet-valid",
        ])
      ).identitySource,
    ).toBe("none");
  });
});
