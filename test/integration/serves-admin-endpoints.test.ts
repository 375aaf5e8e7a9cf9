import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { adminGet } from "../support/mtls-client.js";
import { APP_ROUTES } from "../support/test-routes.js";

describe("the admin listener", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("answers /healthz", async () => {
    const res = await adminGet(h.adminPort, "/healthz");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz with the config revision once listening", async () => {
    const res = await adminGet(h.adminPort, "/readyz");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: "ready", revision: h.gateway.snapshot.revision });
  });

  it("answers 404 elsewhere", async () => {
    expect((await adminGet(h.adminPort, "/nope")).status).toBe(404);
  });
});
