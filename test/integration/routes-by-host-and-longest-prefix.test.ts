import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";

const ALLOW_ALICE = `    policy:
      allow:
        - identity.commonName: alice`;

describe("route selection", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({
      routes: `routes:
  - name: root
    match: { host: app.test }
    upstream: "{{upstream}}/root"
${ALLOW_ALICE}
  - name: api
    match: { host: app.test, pathPrefix: /api }
    upstream: "{{upstream}}/api-upstream"
${ALLOW_ALICE}
  - name: api-admin
    match: { host: app.test, pathPrefix: /api/admin/ }
    upstream: "{{upstream}}"
    policy: {}
  - name: wildcard
    match: { host: "*.apps.test" }
    upstream: "{{upstream}}/wild"
${ALLOW_ALICE}
`,
    });
  });
  afterAll(() => h.close());

  async function routeOf(
    host: string,
    path: string,
  ): Promise<{ status: number; route: unknown; upstreamUrl?: string }> {
    const before = h.upstream.seen.length;
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      host,
      path,
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    const upstreamUrl = h.upstream.seen.length > before ? h.upstream.seen.at(-1)?.url : undefined;
    return {
      status: res.status,
      route: line.route,
      ...(upstreamUrl === undefined ? {} : { upstreamUrl }),
    };
  }

  it.each([
    ["app.test", "/", "root", 200, "/root/"],
    ["app.test", "/apix", "root", 200, "/root/apix"],
    ["app.test", "/api", "api", 200, "/api-upstream/api"],
    ["app.test", "/api/v1/users", "api", 200, "/api-upstream/api/v1/users"],
    ["app.test", "/api/admin/users", "api-admin", 403, undefined],
    ["APP.test:8443", "/api/x", "api", 200, "/api-upstream/api/x"],
    ["one.apps.test", "/x", "wildcard", 200, "/wild/x"],
  ])("%s %s goes to %s", async (host, path, route, status, upstreamUrl) => {
    const got = await routeOf(host, path);
    expect(got).toEqual({ status, route, ...(upstreamUrl === undefined ? {} : { upstreamUrl }) });
  });

  it.each([
    ["other.test", "/"],
    ["two.levels.apps.test", "/"],
    ["apps.test", "/"],
  ])("%s has no route: 404", async (host, path) => {
    const got = await routeOf(host, path);
    expect(got).toEqual({ status: 404, route: "" });
  });
});
