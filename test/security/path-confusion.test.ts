import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { LogLine } from "../support/audit-capture.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { DEFAULT_HOST, rawRequest } from "../support/raw-request.js";

/**
 * Path confusion: a request-target that the router, the policy and the upstream could
 * each read as a different resource. Every attack is sent raw over mTLS (a client
 * library would normalize it first), and every case checks what the client got and
 * what the upstream saw: nothing for a refused request, and for an allowed one
 * exactly the canonical path, on the upstream of the route whose policy decided.
 *
 * The routes: `/public/` for every corp.test user, `/admin` for bob only, and a
 * catch-all `/` for every corp.test user. Each has its own upstream path, so where a
 * request landed shows which route forwarded it.
 */

const UPSTREAM_PATH = {
  public: "/public-upstream",
  admin: "/admin-upstream",
  root: "/root-upstream",
} as const;
type RouteName = keyof typeof UPSTREAM_PATH;

const ROUTES = `routes:
  - name: public
    match: { host: ${DEFAULT_HOST}, pathPrefix: /public/ }
    upstream: "{{upstream}}${UPSTREAM_PATH.public}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
  - name: admin
    match: { host: ${DEFAULT_HOST}, pathPrefix: /admin }
    upstream: "{{upstream}}${UPSTREAM_PATH.admin}"
    policy:
      allow:
        - identity.commonName: bob
  - name: root
    match: { host: ${DEFAULT_HOST} }
    upstream: "{{upstream}}${UPSTREAM_PATH.root}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
`;

describe("path confusion between router, policy and upstream", () => {
  let h: GatewayHarness;
  let alice: IssuedCertificate;
  let bob: IssuedCertificate;
  beforeAll(async () => {
    h = await startGateway({ routes: ROUTES });
    ({ alice, bob } = h.pki.clients);
  });
  afterAll(() => h.close());

  /**
   * Sends `target` and asserts verigate refused it with `status`: a deny audit line
   * (with `expected` fields, e.g. the route whose policy refused and the canonical
   * path it decided on), and nothing at the upstream.
   */
  async function expectRefused(
    target: string,
    status: number,
    expected: Partial<LogLine> = {},
    as: IssuedCertificate = alice,
  ): Promise<LogLine> {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, { target, as });
    expect(res.status, `status for ${JSON.stringify(target)}`).toBe(status);
    expect(res.requestId, "verigate itself answered").not.toBe("");
    const line = await h.audit.decisionFor(res.requestId);
    expect(line).toMatchObject({ decision: "deny", status, ...expected });
    expect(h.upstream.seen.length, `${JSON.stringify(target)} reached the upstream`).toBe(before);
    return line;
  }

  /** A target verigate must refuse as malformed (400) before any route is chosen. */
  async function expectMalformed(target: string, problem?: string): Promise<void> {
    const line = await expectRefused(target, 400, { reasons: ["malformed-request"], route: "" });
    if (problem !== undefined) expect(line.detail).toBe(problem);
  }

  /**
   * Sends `target` and asserts it was allowed by `route`'s policy and that the
   * upstream received exactly one request for it: `forwarded` (canonical path and
   * query) under that route's upstream path, and nothing else.
   */
  async function expectForwarded(
    target: string,
    route: RouteName,
    forwarded: string,
    as: IssuedCertificate = alice,
  ): Promise<void> {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, { target, as });
    expect(res.status, `status for ${JSON.stringify(target)}`).toBe(200);
    const line = await h.audit.decisionFor(res.requestId);
    const path = forwarded.split("?")[0];
    expect(line).toMatchObject({ decision: "allow", route, path, status: 200 });
    const seen = h.upstream.seen.slice(before);
    expect(seen.map((s) => [s.url, s.headers["x-request-id"]])).toEqual([
      [`${UPSTREAM_PATH[route]}${forwarded}`, res.requestId],
    ]);
  }

  it("dot-dot segments escaping an authorized prefix (Envoy CVE-2019-9901 class)", async () => {
    for (const target of [
      "/public/docs/../../admin/users",
      "/public/./../admin/users",
      "/public/../admin",
    ]) {
      await expectRefused(target, 403, { route: "admin", reasons: ["no-matching-rule"] });
    }
    // Decided and forwarded where the path really is, for the one client allowed there.
    await expectForwarded("/public/docs/../../admin/users", "admin", "/admin/users", bob);
    // A trailing `..` leaves the prefix: the catch-all decides and forwards it.
    await expectForwarded("/public/..", "root", "/");
    await expectMalformed("/public/../../admin/users", "path climbs above the root");
  });

  it("percent-encoded dot segments (%2e%2e, mixed case, half-encoded)", async () => {
    for (const target of [
      "/public/%2e%2e/admin/users",
      "/public/%2E%2E/admin/users",
      "/public/%2e./admin/users",
      "/public/x/%2e%2e/%2E%2e/admin/users",
    ]) {
      await expectRefused(target, 403, { route: "admin", path: "/admin/users" });
    }
    await expectForwarded("/public/%2E%2e/admin/users", "admin", "/admin/users", bob);
    await expectForwarded("/public/%2e/report", "public", "/public/report");
    // Decoded once only: a double-encoded dot stays data, under the prefix it was sent to.
    await expectForwarded(
      "/public/%252E%252E/admin/users",
      "public",
      "/public/%252E%252E/admin/users",
    );
  });

  it("encoded slash and backslash (%2f, %5c) confusing router and upstream (Envoy CVE-2021-29492 class)", async () => {
    await expectMalformed("/public%2F..%2Fadmin/users", "encoded slash in path");
    await expectMalformed("/public/..%2fadmin/users", "encoded slash in path");
    await expectMalformed("/admin%2Fusers", "encoded slash in path");
    await expectMalformed("/public/..%5Cadmin/users", "encoded backslash in path");
    await expectMalformed("/public/x%5c..%5c..%5cadmin", "encoded backslash in path");
    await expectMalformed("/public/..\\admin/users", "backslash in path");
    // Double-encoded, it is data to verigate and to any upstream that decodes once.
    await expectForwarded("/public/..%252fadmin", "public", "/public/..%252fadmin");
  });

  it("path parameters `..;/` (Tomcat/nginx differential)", async () => {
    for (const target of [
      "/public/..;/admin/users",
      "/public/..;jsessionid=1/admin/users",
      "/public/.;/admin/users",
      "/public/%2e%2e;/admin/users",
      "/public/..%3B/admin/users",
      "/public/%2E%2E%3b/admin/users",
    ]) {
      await expectMalformed(target, "dot segment with parameters in path");
    }
    // Parameters on an ordinary segment are data: forwarded as sent, under the same prefix.
    await expectForwarded("/public/doc;v=2/x", "public", "/public/doc;v=2/x");
  });

  it("path parameters that move a request to another route for a servlet container (`/admin;x/users`)", async () => {
    // Tomcat and Jetty strip `;x` before routing: to them this is /admin/users, which
    // the catch-all route's policy must not decide.
    for (const target of ["/admin;x/users", "/admin;jsessionid=1", "/admin;/users"]) {
      await expectMalformed(
        target,
        "path parameters (;) would route it elsewhere for a servlet container",
      );
    }
    // Parameters that leave the route unchanged pass (a session id on a page).
    await expectForwarded("/app/page;jsessionid=1", "root", "/app/page;jsessionid=1");
  });

  it("absolute-form target naming another authority", async () => {
    for (const target of [
      "http://admin.internal/admin/users",
      "https://admin.internal:8443/public/x",
      `https://${DEFAULT_HOST}/public/x`,
      `http://${DEFAULT_HOST}@admin.internal/public/x`,
    ]) {
      await expectMalformed(target, "request-target is not in origin-form");
    }
    // A network-path reference (`//authority/...`) is a path here, never an authority.
    await expectForwarded("//admin.internal/admin/users", "root", "/admin.internal/admin/users");
    const seen = h.upstream.seen.at(-1);
    expect(seen?.headers.host).toBe(`127.0.0.1:${h.upstream.port}`);
  });

  it("policy decided on a different route than the router chose (Pomerium CVE-2023-33189 class)", async () => {
    // Each disguise of /admin/reports is decided by the admin route's policy (alice is
    // refused by it) and, when allowed, forwarded to the admin route's upstream.
    for (const target of [
      "/public/../admin/reports",
      "/public/%2e%2e/admin/reports",
      "//admin/reports",
      "/%61dmin/reports",
      "/admin/./reports",
      "/public/x/../../admin/reports",
    ]) {
      await expectRefused(target, 403, { route: "admin", path: "/admin/reports" });
      await expectForwarded(target, "admin", "/admin/reports", bob);
    }
  });

  it("double slashes merging into another prefix", async () => {
    for (const target of ["//admin/users", "///admin//users", "/public//..//admin/users/"]) {
      const line = await expectRefused(target, 403, { route: "admin" });
      expect(String(line.path)).toMatch(/^\/admin\/users\/?$/);
    }
    await expectForwarded("//admin//users", "admin", "/admin/users", bob);
    // Merging never moves a path out of its prefix either.
    await expectForwarded("/public//x//y", "public", "/public/x/y");
  });

  it("fragment in the request target", async () => {
    for (const target of [
      "/public/x#/../../admin/users",
      "/public/x#",
      "/admin#/public/x",
      "/public/x?q=1#/admin",
    ]) {
      await expectMalformed(target, "fragment in request-target");
    }
  });

  it("NUL and control characters in the path", async () => {
    await expectMalformed("/public/x%00", "encoded control character in path");
    await expectMalformed("/public/x%00/../../admin/users", "encoded control character in path");
    await expectMalformed(
      "/public/%0d%0aX-Verigate-User:%20admin",
      "encoded control character in path",
    );
    await expectMalformed("/public/%09x", "encoded control character in path");
    await expectMalformed("/public/%1F", "encoded control character in path");
    await expectMalformed("/public/%7f", "encoded control character in path");
  });

  it("NUL, control characters and overlong UTF-8 sent raw in the request line", async () => {
    // Node's HTTP parser refuses raw controls and bytes >= 0x80 itself; whoever
    // refuses, it is a 400 and the upstream sees nothing.
    for (const target of [
      "/public/x\u0000",
      "/public/\u0001x",
      "/public/x\u007f",
      "/public/\tx",
      "/public/\u00c0\u00ae\u00c0\u00ae/admin/users",
      "/public/caf\u00e9",
    ]) {
      const before = h.upstream.seen.length;
      const res = await rawRequest(h, { target });
      expect(res.status, JSON.stringify(target)).toBe(400);
      expect(h.upstream.seen.length).toBe(before);
      if (res.requestId !== "") {
        const line = await h.audit.decisionFor(res.requestId);
        expect(line).toMatchObject({ decision: "deny", reasons: ["malformed-request"] });
      }
    }
  });

  it("overlong / non-UTF-8 percent sequences", async () => {
    // Overlong UTF-8 for `.`, `/` and `\`: lenient decoders (IIS, the Tomcat of
    // CVE-2008-2938) read these as a traversal after verigate authorized the path.
    for (const target of [
      "/public/%c0%ae%c0%ae/admin/users",
      "/public/%C0%AE%C0%AE/admin/users",
      "/public/%e0%80%ae%e0%80%ae/admin/users",
      "/public/%f0%80%80%ae%f0%80%80%ae/admin/users",
      "/public/..%c0%afadmin/users",
      "/public/..%c1%9cadmin/users",
    ]) {
      await expectMalformed(target, "overlong UTF-8 sequence in path");
    }
    // Other bytes that are not UTF-8 are never decoded: forwarded as uppercase escapes,
    // under the prefix they were sent to.
    await expectForwarded("/public/%ff", "public", "/public/%FF");
    await expectForwarded("/public/%c3", "public", "/public/%C3");
    await expectForwarded("/public/%e2%80%ae", "public", "/public/%E2%80%AE");
  });

  it("traversal hidden in the query string is neither resolved nor routed", async () => {
    await expectForwarded("/public/x?next=/../admin", "public", "/public/x?next=/../admin");
    await expectForwarded(
      "/public/x?p=%2e%2e%2fadmin&q=%00",
      "public",
      "/public/x?p=%2e%2e%2fadmin&q=%00",
    );
    await expectMalformed("/public/x?next=/../admin'", "query byte that must be percent-encoded");
  });

  it("traversal into and out of verigate's own endpoints", async () => {
    // Out of /.well-known/verigate/: decided by the route the path names.
    await expectRefused("/.well-known/verigate/../../admin/users", 403, {
      route: "admin",
      path: "/admin/users",
    });
    // Into it: served by verigate, never forwarded.
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, { target: "/public/../.well-known/verigate/jwks.json" });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty("keys");
    const line = await h.audit.decisionFor(res.requestId);
    expect(line).toMatchObject({ reasons: ["served-by-verigate"], route: "" });
    expect(h.upstream.seen.length).toBe(before);
  });
});
