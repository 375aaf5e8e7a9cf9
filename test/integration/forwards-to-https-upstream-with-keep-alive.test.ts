import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";

describe("an https:// upstream", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({
      upstreamTls: true,
      routes: `routes:
  - name: tls-app
    match: { host: app.test }
    upstream: "{{upstream}}"
    upstreamCA: "{{upstreamCA}}"
    policy:
      allow:
        - identity.commonName: alice
  - name: untrusted-upstream
    match: { host: other.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.commonName: alice
`,
    });
  });
  afterAll(() => h.close());

  it("is reached over TLS verified against upstreamCA, over a kept-alive connection", async () => {
    const first = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/one",
    });
    const second = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/two",
    });
    expect([first.status, second.status]).toEqual([200, 200]);
    const [one, two] = h.upstream.seen.slice(-2);
    expect(one?.url).toBe("/one");
    expect(two?.url).toBe("/two");
    // Two client connections, one reused upstream connection.
    expect(two?.remotePort).toBe(one?.remotePort);
    expect(two?.headers.host).toBe(`localhost:${h.upstream.port}`);
  });

  it("is refused with 502 when its certificate does not verify (no upstreamCA: public roots only)", async () => {
    const before = h.upstream.seen.length;
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      host: "other.test",
    });
    expect(res.status).toBe(502);
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line).toMatchObject({ reasons: ["allowed-by-rule", "upstream-unreachable"] });
    expect(line.detail).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect(h.upstream.seen.length).toBe(before);
  });
});
