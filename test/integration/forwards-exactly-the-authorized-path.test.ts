import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { connectFor } from "../support/connect-for-host.js";

/**
 * Raw requests over mTLS, so the request-target reaches verigate byte for byte
 * (an HTTP client library would normalize it first).
 */
function rawRequest(
  h: GatewayHarness,
  target: string,
): Promise<{ status: number; requestId: string }> {
  const alice = h.pki.clients.alice;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port: h.port,
      ...connectFor("app.test"),
      ca: h.pki.ca.certPem,
      cert: alice.chainPem,
      key: alice.keyPem,
    });
    let data = "";
    socket.on("secureConnect", () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`),
    );
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, requestId: /x-request-id: ([0-9a-f-]+)/i.exec(data)?.[1] ?? "" });
    });
  });
}

describe("the path verigate authorizes is the path it forwards", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({
      routes: `routes:
  - name: public
    match: { host: app.test, pathPrefix: /public/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.commonName: alice
  - name: admin
    match: { host: app.test, pathPrefix: /admin/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.commonName: root
`,
    });
  });
  afterAll(() => h.close());

  it.each([
    ["/public/../admin/users"],
    ["/public/%2e%2e/admin/users"],
    ["/public/.%2E/admin/users"],
    ["/public//..//admin/users"],
  ])("%s is decided by the admin route it really names, and denied", async (target) => {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, target);
    expect(res.status).toBe(403);
    const line = await h.audit.decisionFor(res.requestId);
    expect(line).toMatchObject({ route: "admin", path: "/admin/users" });
    expect(h.upstream.seen.length).toBe(before);
  });

  it.each([
    ["/public/..%2fadmin/users"],
    ["/public/%2F../admin"],
    ["/public\\..\\admin/users"],
    ["/public/%5c..%5cadmin"],
    ["/public/a%00b"],
    ["/../admin/users"],
    ["http://admin.internal/admin/users"],
    ["/public/x#frag"],
  ])("%s is refused as malformed (400)", async (target) => {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, target);
    expect(res.status).toBe(400);
    const line = await h.audit.decisionFor(res.requestId);
    expect(line.reasons).toEqual(["malformed-request"]);
    expect(h.upstream.seen.length).toBe(before);
  });

  it.each([
    ["/public/a/./b//c", "/public/a/b/c"],
    ["/public/%7Euser/%41bc", "/public/~user/Abc"],
    ["/public/x/../y?q=%2F..", "/public/y?q=%2F.."],
    ["/public/caf%c3%a9", "/public/caf%C3%A9"],
    ["/public/%252e%252e/admin", "/public/%252e%252e/admin"],
  ])("%s is forwarded as %s", async (target, forwarded) => {
    const res = await rawRequest(h, target);
    expect(res.status).toBe(200);
    expect(h.upstream.seen.at(-1)?.url).toBe(forwarded);
  });
});
