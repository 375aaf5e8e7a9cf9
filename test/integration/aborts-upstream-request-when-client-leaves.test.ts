import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";
import { connectFor } from "../support/connect-for-host.js";

describe("a client that goes away mid-request", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    // A long upstream timeout, so only the client's abort can end the upstream request.
    h = await startGateway({ routes: APP_ROUTES, extra: "limits: { upstreamTimeout: 60s }" });
  });
  afterAll(() => h.close());

  it("has its upstream request aborted too, and is audited", async () => {
    const alice = h.pki.clients.alice;
    const req = request({
      host: "127.0.0.1",
      port: h.port,
      ...connectFor("app.test"),
      ca: h.pki.ca.certPem,
      cert: alice.chainPem,
      key: alice.keyPem,
      path: "/slow/abandoned",
      headers: { host: "app.test" },
      agent: false,
    });
    req.on("error", () => undefined);
    req.end();
    await expect.poll(() => h.upstream.seen.some((s) => s.url === "/slow/abandoned")).toBe(true);
    req.destroy();
    await expect
      .poll(() => h.upstream.aborted.includes("/slow/abandoned"), { timeout: 3000 })
      .toBe(true);
    await expect
      .poll(() => h.audit.decisions().find((l) => l.path === "/slow/abandoned"))
      .toMatchObject({
        decision: "allow",
        detail: "connection closed before the response completed",
      });
  });
});
