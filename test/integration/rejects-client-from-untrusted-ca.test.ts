import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a client certificate from a CA verigate does not trust", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("gets 401 even though it copies alice's subject and SPIFFE ID exactly", async () => {
    const line = await expectDenied(h, { as: h.pki.clients.fromOtherCa, path: "/private" }, 401, [
      "client-certificate-untrusted",
    ]);
    expect(line.identitySource).toBe("none");
    // The certificate's claims never became an identity.
    expect(line.spiffeId).toBeUndefined();
    expect(line.detail).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });
});
