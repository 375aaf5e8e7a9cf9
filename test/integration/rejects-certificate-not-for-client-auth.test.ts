import { afterEach, describe, expect, it } from "vitest";
import { expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("a client certificate not issued for TLS client authentication", () => {
  let h: GatewayHarness | undefined;
  afterEach(() => h?.close());

  it("gets 401 when its extendedKeyUsage is serverAuth only (OpenSSL refuses it)", async () => {
    h = await startGateway({ routes: APP_ROUTES });
    const line = await expectDenied(h, { as: h.pki.clients.serverOnlyEku, path: "/private" }, 401, [
      "client-certificate-wrong-purpose",
    ]);
    expect(line.identitySource).toBe("none");
    expect(line.detail).toBe("INVALID_PURPOSE");
  });

  it("gets 401 when it has no extendedKeyUsage at all (OpenSSL accepts it; verigate does not)", async () => {
    h = await startGateway({ routes: APP_ROUTES });
    const line = await expectDenied(h, { as: h.pki.clients.noEku, path: "/private" }, 401, [
      "client-certificate-wrong-purpose",
    ]);
    expect(line.identitySource).toBe("none");
    expect(line.detail).toContain("no extendedKeyUsage");
  });

  it("is accepted without extendedKeyUsage only where the config says unsafeAllowClientCertWithoutEku", async () => {
    h = await startGateway({
      routes: APP_ROUTES,
      tls: "  unsafeAllowClientCertWithoutEku: true\n",
    });
    const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.noEku });
    expect(res.status).toBe(200);
  });
});
