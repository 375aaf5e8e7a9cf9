import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";

function openSocket(
  h: GatewayHarness,
  as: IssuedCertificate | undefined,
  headers: Record<string, string> = {},
  path = "/chat",
): WebSocket {
  return new WebSocket(`wss://127.0.0.1:${h.port}${path}`, {
    ca: h.pki.ca.certPem,
    ...(as === undefined ? {} : { cert: as.chainPem, key: as.keyPem }),
    headers: { host: "app.test", ...headers },
  });
}

describe("WebSocket upgrades", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("are proxied for a client the policy allows, without spoofed headers", async () => {
    const ws = openSocket(h, h.pki.clients.alice, {
      "x-verigate-user": "admin",
      "x-forwarded-for": "10.1.1.1",
    });
    await once(ws, "open");
    ws.send("ping");
    const [reply] = (await once(ws, "message")) as [Buffer];
    expect(reply.toString()).toBe("echo:ping");
    ws.close();
    const seen = h.upstream.seen.at(-1);
    expect(seen?.url).toBe("/chat");
    expect(seen?.headers["x-verigate-user"]).toBeUndefined();
    expect(seen?.headers["x-forwarded-for"]).toBe("127.0.0.1");
    const line = h.audit.decisions().at(-1);
    expect(line).toMatchObject({ decision: "allow", upgrade: true, status: 101, route: "app" });
  });

  it.each([
    ["denied by policy", "bob", 403],
    ["without a certificate", undefined, 401],
  ] as const)("are refused %s with the same statuses as requests", async (_what, who, status) => {
    const before = h.upstream.seen.length;
    const ws = openSocket(h, who === undefined ? undefined : h.pki.clients[who]);
    // terminate() on a socket that never opened emits an error we expect.
    ws.on("error", () => undefined);
    const [, res] = (await once(ws, "unexpected-response")) as [
      unknown,
      { statusCode: number; headers: Record<string, string> },
    ];
    expect(res.statusCode).toBe(status);
    ws.terminate();
    const line = await h.audit.decisionFor(res.headers["x-request-id"] ?? "");
    expect(line).toMatchObject({ decision: "deny", upgrade: true });
    expect(h.upstream.seen.length).toBe(before);
  });
});

describe("WebSocket upgrades and a silent upstream", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES, extra: "limits: { upstreamTimeout: 300ms }" });
  });
  afterAll(() => h.close());

  it("are closed once limits.upstreamTimeout passes without an answer", async () => {
    const ws = openSocket(h, h.pki.clients.alice, {}, "/slow/ws");
    const errors: Error[] = [];
    ws.on("error", (error: Error) => errors.push(error));
    const started = Date.now();
    await new Promise((resolve) => ws.on("close", resolve));
    expect(errors.map((e) => e.message)).toEqual(["socket hang up"]);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect
      .poll(() => h.audit.lines.find((l) => l.msg === "upgrade forwarding failed"))
      .toMatchObject({ reason: "upstream-timeout", route: "app" });
  });
});

describe("open WebSocket connections at shutdown", () => {
  it("are closed by the drain, which then completes", async () => {
    const h = await startGateway({ routes: APP_ROUTES });
    const ws = openSocket(h, h.pki.clients.alice);
    await once(ws, "open");
    const closed = once(ws, "close");
    await h.close();
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
