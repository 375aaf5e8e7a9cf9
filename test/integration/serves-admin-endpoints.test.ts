import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { adminGet, mtlsRequest } from "../support/mtls-client.js";
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

  it("counts decisions by route, decision and reason in /metrics (Prometheus text)", async () => {
    await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice, path: "/m1" });
    await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.bob, path: "/m2" });
    await mtlsRequest({ port: h.port, pki: h.pki, path: "/m3" });
    await expect
      .poll(async () => (await adminGet(h.adminPort, "/metrics")).body)
      .toMatch(
        /verigate_decisions_total\{route="app",decision="deny",reason="client-certificate-required"\} 1/,
      );
    const res = await adminGet(h.adminPort, "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toMatch(
      /verigate_decisions_total\{route="app",decision="allow",reason="allowed-by-rule"\} \d+/,
    );
    expect(res.body).toMatch(
      /verigate_decisions_total\{route="app",decision="deny",reason="denied-by-rule"\} 1/,
    );
    expect(res.body).toMatch(/verigate_request_duration_seconds_count\{route="app"\} \d+/);
    expect(res.body).toMatch(/verigate_decision_duration_seconds_count \d+/);
  });
});
