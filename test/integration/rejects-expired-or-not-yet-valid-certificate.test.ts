import { afterAll, beforeAll, describe, it } from "vitest";
import { expectRefused } from "../support/expect-refusal.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a client certificate outside its validity period", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("gets 401 when expired", async () => {
    await expectRefused(h, h.pki.clients.expired, 401, "client-certificate-expired");
  });

  it("gets 401 when not yet valid", async () => {
    await expectRefused(h, h.pki.clients.notYetValid, 401, "client-certificate-not-yet-valid");
  });
});
