import { afterEach, describe, expect, it } from "vitest";
import { expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a revoked client certificate", () => {
  let h: GatewayHarness | undefined;
  afterEach(() => h?.close());

  it("gets 401 when tls.crl lists it", async () => {
    h = await startGateway({ routes: APP_ROUTES });
    expect(
      (
        await expectDenied(h, { as: h.pki.clients.revoked, path: "/private" }, 401, [
          "client-certificate-revoked",
        ])
      ).identitySource,
    ).toBe("none");
    // Others of the same CA (and of an intermediate with its own CRL) still get in.
    expect((await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice })).status).toBe(
      200,
    );
    expect(
      (await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.viaIntermediate })).status,
    ).toBe(200);
  });

  it("is only as revoked as the CRL says: without tls.crl it is accepted", async () => {
    h = await startGateway({ routes: APP_ROUTES, crl: false });
    const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.revoked });
    expect(res.status).toBe(200);
  });
});
