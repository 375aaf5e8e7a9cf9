import {
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SeenRequest } from "../support/echo-upstream.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import {
  DEFAULT_HOST,
  rawRequest,
  type RawRequestOptions,
  type RawResponse,
} from "../support/raw-request.js";
import { createSigningKey, jwksOf, mintToken, type TestSigningKey } from "../support/token-keys.js";

/**
 * Header spoofing: a client sending headers that an upstream would read as facts
 * established by verigate (who called, from where, for which path), or using
 * hop-by-hop rules to strip the ones verigate sets. Requests are written raw over
 * mTLS so that names, case, order and `Connection` reach verigate exactly as an
 * attacker sends them. Every case checks, header by header, what the upstream
 * received: absent, or verigate's own value.
 */

const ISS = "https://idp.corp.test";
const AUD = "verigate";
const ROUTE = "app";

const CONFIG = `issuers:
  - name: corp-idp
    kind: identity
    issuer: ${ISS}
    audience: ${AUD}
    algorithms: [ES256]
    jwks: { file: idp-jwks.json }
# Each request's assertion is made for it (its jti is the request id), so that the
# upstream's copy is provably verigate's answer to this very request.
assertion: { reuseFor: 0s }
`;
const ROUTES = `routes:
  - name: ${ROUTE}
    match: { host: ${DEFAULT_HOST} }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
        - identity.groups: { has: staff }
`;

/** A syntactically valid WebSocket handshake key (RFC 6455 §1.3's example). */
const WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

describe("headers a client sends to impersonate verigate or strip what it sets", () => {
  let h: GatewayHarness;
  let idpKey: TestSigningKey;
  let jwks: JSONWebKeySet;
  let staffToken: string;

  beforeAll(async () => {
    idpKey = await createSigningKey("ES256", "idp-1");
    h = await startGateway({
      extra: CONFIG,
      files: { "idp-jwks.json": JSON.stringify(jwksOf(idpKey)) },
      routes: ROUTES,
    });
    const res = await rawRequest(h, { target: "/.well-known/verigate/jwks.json" });
    expect(res.status).toBe(200);
    jwks = JSON.parse(res.body) as JSONWebKeySet;
    staffToken = await mintToken(
      idpKey,
      { sub: "alice-oidc", groups: ["staff"] },
      { iss: ISS, aud: AUD },
    );
  });
  afterAll(() => h.close());

  /**
   * Sends a request that must be allowed, and returns what the upstream received for
   * it and the request id verigate gave it (a 101 is the upstream's own answer, so for
   * an upgrade the id is the one verigate sent the upstream, checked against the audit line).
   */
  async function forward(
    request: RawRequestOptions,
    status = 200,
  ): Promise<{ res: RawResponse; seen: SeenRequest; requestId: string }> {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, request);
    expect(res.status, res.raw.slice(0, 300)).toBe(status);
    // An upgrade is recorded once the upstream's handshake completes.
    await expect.poll(() => h.upstream.seen.length).toBe(before + 1);
    const seen = h.upstream.seen[before] as SeenRequest;
    const requestId = status === 101 ? String(seen.headers["x-request-id"]) : res.requestId;
    expect(seen.headers["x-request-id"]).toBe(requestId);
    const line = await h.audit.decisionFor(requestId);
    expect(line).toMatchObject({ decision: "allow", route: ROUTE, status });
    return { res, seen, requestId };
  }

  /** How many times the upstream received a header, by lowercase name. */
  function countOf(seen: SeenRequest, name: string): number {
    return seen.rawHeaders.filter((raw, i) => i % 2 === 0 && raw.toLowerCase() === name).length;
  }

  /** Asserts none of `names` reached the upstream, in any spelling. */
  function expectAbsent(seen: SeenRequest, ...names: string[]): void {
    for (const name of names) {
      expect(seen.headers[name], name).toBeUndefined();
      expect(countOf(seen, name), name).toBe(0);
    }
  }

  /** Verifies the upstream's x-verigate-assertion as an upstream would, and returns its claims. */
  async function verigateAssertionOf(seen: SeenRequest, requestId: string): Promise<JWTPayload> {
    expect(countOf(seen, "x-verigate-assertion")).toBe(1);
    const token = String(seen.headers["x-verigate-assertion"]);
    const kid = decodeProtectedHeader(token).kid;
    expect(jwks.keys.map((key) => key.kid)).toContain(kid);
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: "verigate",
      audience: ROUTE,
      algorithms: ["ES256"],
    });
    expect(payload.jti).toBe(requestId);
    return payload;
  }

  /**
   * Asserts the upstream got exactly verigate's own proxy headers, once each: Host,
   * x-forwarded-*, x-request-id and a verifiable assertion, and no other header
   * naming verigate or carrying `_`.
   */
  async function expectOnlyVerigateHeaders(
    seen: SeenRequest,
    requestId: string,
  ): Promise<JWTPayload> {
    const own: Record<string, string> = {
      host: `127.0.0.1:${h.upstream.port}`,
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-proto": "https",
      "x-forwarded-host": DEFAULT_HOST,
      "x-request-id": requestId,
    };
    for (const [name, value] of Object.entries(own)) {
      expect(seen.headers[name], name).toBe(value);
      expect(countOf(seen, name), name).toBe(1);
    }
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n.includes("verigate"))).toEqual(["x-verigate-assertion"]);
    expect(names.filter((n) => n.includes("_"))).toEqual([]);
    return verigateAssertionOf(seen, requestId);
  }

  it("client x-verigate-* identity headers in any case (oauth2-proxy CVE-2025-64484 class)", async () => {
    const { requestId, seen } = await forward({
      target: "/profile",
      headers: [
        ["X-Verigate-User", "admin"],
        ["x-VERIGATE-groups", "admins"],
        ["X-VERIGATE-IDENTITY", '{"commonName":"root"}'],
        ["x-verigate-spiffe-id", "spiffe://corp.test/user/root"],
        ["X-App-Data", "kept"],
      ],
    });
    expectAbsent(seen, "x-verigate-user", "x-verigate-groups", "x-verigate-identity");
    expectAbsent(seen, "x-verigate-spiffe-id");
    const claims = await expectOnlyVerigateHeaders(seen, requestId);
    expect(claims).toMatchObject({ identity: { commonName: "alice" } });
    // The builder passes end-to-end headers: the absences above are not a blanket drop.
    expect(seen.headers["x-app-data"]).toBe("kept");
  });

  it("underscore variants of identity headers, X_Verigate_User (oauth2-proxy CVE-2025-64484 class)", async () => {
    const { requestId, seen } = await forward({
      target: "/profile",
      headers: [
        ["X_Verigate_User", "admin"],
        ["x-verigate_groups", "admins"],
        ["X_VERIGATE_ASSERTION", "forged.jwt.value"],
        ["X_Forwarded_For", "10.0.0.1"],
        ["x_forwarded_host", "admin.internal"],
        ["X_Real_IP", "10.0.0.1"],
        ["X_Forwarded_Client_Cert", "Hash=forged;Subject=CN=root"],
        ["Remote_User", "root"],
      ],
    });
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0);
    expect(names.filter((n) => n.includes("_"))).toEqual([]);
    expectAbsent(seen, "x-verigate-user", "x-verigate-groups", "x-real-ip", "remote-user");
    expectAbsent(seen, "x-forwarded-client-cert");
    await expectOnlyVerigateHeaders(seen, requestId);
  });

  it("spoofed x-forwarded-for, -host, -proto, -uri, -prefix and -port (GHSA-7x63-xv5r-3p2x class)", async () => {
    const { requestId, seen } = await forward({
      target: "/public/page",
      headers: [
        ["X-Forwarded-For", "10.0.0.1, 192.168.1.1"],
        ["X-Forwarded-Host", "admin.internal"],
        ["X-Forwarded-Proto", "http"],
        ["X-Forwarded-Uri", "/admin/users"],
        ["X-Forwarded-Prefix", "/admin"],
        ["X-Forwarded-Port", "8443"],
        ["X-Forwarded-Server", "admin.internal"],
        ["X-Forwarded-Method", "DELETE"],
        ["X-Request-Id", "client-chosen"],
      ],
    });
    await expectOnlyVerigateHeaders(seen, requestId);
    expectAbsent(seen, "x-forwarded-uri", "x-forwarded-prefix", "x-forwarded-port");
    expectAbsent(seen, "x-forwarded-server", "x-forwarded-method");
    expect(seen.url).toBe("/public/page");
  });

  it("Forwarded (RFC 7239), X-Real-IP and X-Client-IP naming another client", async () => {
    const { requestId, seen } = await forward({
      target: "/",
      headers: [
        ["Forwarded", 'for=10.0.0.1;host=admin.internal;proto=http, for="[::1]"'],
        ["X-Real-IP", "10.0.0.1"],
        ["X-Client-IP", "10.0.0.1"],
      ],
    });
    expectAbsent(seen, "forwarded", "x-real-ip", "x-client-ip");
    await expectOnlyVerigateHeaders(seen, requestId);
  });

  it("X-Original-URL and X-Rewrite-URL overriding the authorized path (IIS / Symfony class)", async () => {
    const { requestId, seen } = await forward({
      target: "/public/page",
      headers: [
        ["X-Original-URL", "/admin/users"],
        ["X-Rewrite-URL", "/admin/users"],
        ["X-Original-URI", "/admin/users"],
      ],
    });
    expectAbsent(seen, "x-original-url", "x-rewrite-url", "x-original-uri");
    expect(seen.url).toBe("/public/page");
    await expectOnlyVerigateHeaders(seen, requestId);
  });

  it("X-HTTP-Method-Override turning an allowed GET into a DELETE (method-override middleware class)", async () => {
    const { requestId, seen } = await forward({
      target: "/public/page",
      headers: [
        ["X-HTTP-Method-Override", "DELETE"],
        ["X-HTTP-Method", "DELETE"],
        ["X-Method-Override", "DELETE"],
      ],
    });
    expectAbsent(seen, "x-http-method-override", "x-http-method", "x-method-override");
    expect(seen.method).toBe("GET");
    await expectOnlyVerigateHeaders(seen, requestId);
  });

  it("client certificate headers other proxies assert: XFCC, RFC 9440 Client-Cert, X-SSL-Client-*", async () => {
    const { requestId, seen } = await forward({
      target: "/",
      headers: [
        [
          "X-Forwarded-Client-Cert",
          "By=spiffe://corp.test/gw;Hash=00;URI=spiffe://corp.test/user/root",
        ],
        ["Client-Cert", ":MIIBforged=:"],
        ["Client-Cert-Chain", ":MIIBforged=:"],
        ["X-SSL-Client-Verify", "SUCCESS"],
        ["X-SSL-Client-S-DN", "CN=root"],
        ["X-Client-Cert", "forged"],
        ["SSL-Client-Cert", "forged"],
        ["X-ARR-ClientCert", "forged"],
        ["X-Amzn-Mtls-Clientcert", "forged"],
      ],
    });
    expectAbsent(seen, "x-forwarded-client-cert", "client-cert", "client-cert-chain");
    expectAbsent(seen, "x-ssl-client-verify", "x-ssl-client-s-dn", "x-client-cert");
    expectAbsent(seen, "ssl-client-cert", "x-arr-clientcert", "x-amzn-mtls-clientcert");
    const claims = await expectOnlyVerigateHeaders(seen, requestId);
    // The certificate the upstream can rely on is the one in verigate's assertion.
    expect(claims).toHaveProperty(["cnf", "x5t#S256"]);
  });

  it("Connection naming x-verigate-assertion, authorization and the x-forwarded-* verigate sets (Traefik CVE-2024-45410 class)", async () => {
    const { requestId, seen } = await forward({
      target: "/",
      headers: [
        [
          "Connection",
          "close, X-Verigate-Assertion, authorization, X-Forwarded-For, x-forwarded-host, x-forwarded-proto, x-request-id, host",
        ],
        ["Authorization", "Basic YWxpY2U6c2VjcmV0"],
      ],
    });
    // What verigate sets survives being named; the client's own header named there goes.
    await expectOnlyVerigateHeaders(seen, requestId);
    expectAbsent(seen, "authorization");
  });

  it("Connection: content-length or transfer-encoding to strip the body framing (request smuggling to the upstream)", async () => {
    const body = "a=1&b=2";
    const fixed = await forward({
      method: "POST",
      target: "/upload",
      headers: [
        ["Connection", "close, content-length"],
        ["Content-Length", String(body.length)],
      ],
      body,
    });
    expect(fixed.seen.headers["content-length"]).toBe(String(body.length));
    expect(fixed.seen.body).toBe(body);
    await expectOnlyVerigateHeaders(fixed.seen, fixed.requestId);

    const chunked = await forward({
      method: "POST",
      target: "/upload",
      headers: [
        ["Connection", "close, Transfer-Encoding"],
        ["Transfer-Encoding", "chunked"],
      ],
      body: `3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n`,
    });
    expect(chunked.seen.body).toBe(body);
    expect(chunked.seen.headers["transfer-encoding"]).toBe("chunked");
    await expectOnlyVerigateHeaders(chunked.seen, chunked.requestId);
  });

  it("Proxy-Authorization and Proxy-Connection meant for a proxy", async () => {
    const { requestId, seen } = await forward({
      target: "/",
      headers: [
        ["Proxy-Authorization", "Basic cm9vdDpyb290"],
        ["Proxy-Connection", "keep-alive"],
        ["Keep-Alive", "timeout=600"],
      ],
    });
    expectAbsent(seen, "proxy-authorization", "proxy-connection", "keep-alive");
    await expectOnlyVerigateHeaders(seen, requestId);
  });

  it("TE and Trailer request headers, with a trailer field forging x-verigate-user (crashed http-proxy 1.18)", async () => {
    const { requestId, seen } = await forward({
      method: "POST",
      target: "/upload",
      headers: [
        ["TE", "trailers, deflate"],
        ["Trailer", "X-Verigate-User"],
        ["Transfer-Encoding", "chunked"],
      ],
      body: `4\r\ndata\r\n0\r\nX-Verigate-User: admin\r\n\r\n`,
    });
    expectAbsent(seen, "te", "trailer", "x-verigate-user");
    expect(seen.body).toBe("data");
    await expectOnlyVerigateHeaders(seen, requestId);
    // The gateway is still serving.
    await forward({ target: "/after-trailer" });
  });

  it("h2c upgrade smuggling past the policy (Bishop Fox h2c smuggling class)", async () => {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, {
      target: "/",
      headers: [
        ["Connection", "Upgrade, HTTP2-Settings"],
        ["Upgrade", "h2c"],
        ["HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"],
      ],
    });
    expect(res.status).toBe(400);
    const line = await h.audit.decisionFor(res.requestId);
    expect(line).toMatchObject({ decision: "deny", reasons: ["malformed-request"] });
    expect(h.upstream.seen.length).toBe(before);
  });

  it("a client-supplied x-verigate-assertion signed by the attacker under verigate's kid", async () => {
    const kid = jwks.keys[0]?.kid ?? "";
    const attackerKey = await createSigningKey("ES256", kid);
    const forged = await mintToken(
      attackerKey,
      { sub: "CN=root", identity: { source: "certificate", commonName: "root" } },
      { iss: "verigate", aud: ROUTE },
    );
    const { requestId, seen } = await forward({
      target: "/",
      headers: [
        ["X-Verigate-Assertion", forged],
        ["x-verigate-assertion", "forged.second.copy"],
      ],
    });
    expect(seen.headers["x-verigate-assertion"]).not.toBe(forged);
    const claims = await expectOnlyVerigateHeaders(seen, requestId);
    expect(claims).toMatchObject({ identity: { commonName: "alice" } });
    // The forgery itself fails verification against verigate's keys.
    await expect(
      jwtVerify(forged, createLocalJWKSet(jwks), { issuer: "verigate", audience: ROUTE }),
    ).rejects.toThrow();
  });

  it("a bearer token verigate consumed never reaches the upstream", async () => {
    for (const value of [`Bearer ${staffToken}`, `bearer   ${staffToken}`]) {
      const { requestId, seen } = await forward({
        target: "/ledger",
        headers: [["Authorization", value]],
      });
      expectAbsent(seen, "authorization");
      expect(JSON.stringify(seen.headers)).not.toContain(staffToken);
      const claims = await expectOnlyVerigateHeaders(seen, requestId);
      expect(claims).toMatchObject({ identity: { source: "token", subject: "alice-oidc" } });
      const line = await h.audit.decisionFor(requestId);
      expect(line).toMatchObject({ identitySource: "token", subject: "alice-oidc" });
    }
  });

  it("the same spoofed and consumed headers with Expect: 100-continue (http-proxy skips proxyReq)", async () => {
    const body = "hello";
    const { res, requestId, seen } = await forward({
      method: "POST",
      target: "/upload",
      headers: [
        ["Content-Length", String(body.length)],
        ["Expect", "100-continue"],
        ["Authorization", `Bearer ${staffToken}`],
        ["X-Verigate-User", "admin"],
        ["X_Verigate_User", "admin"],
        ["X-Verigate-Assertion", "forged.jwt.value"],
        ["X-Forwarded-For", "10.0.0.1"],
        ["Connection", "close, x-request-id"],
      ],
      body,
    });
    expect(res.raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    expectAbsent(seen, "expect", "authorization", "x-verigate-user");
    expect(seen.body).toBe(body);
    const claims = await expectOnlyVerigateHeaders(seen, requestId);
    expect(claims).toMatchObject({ identity: { source: "token", subject: "alice-oidc" } });
  });

  it("the same spoofed and consumed headers over a WebSocket upgrade", async () => {
    const { requestId, seen } = await forward(
      {
        target: "/chat",
        headers: [
          ["Connection", "Upgrade, X-Verigate-Assertion, x-forwarded-for"],
          ["Upgrade", "websocket"],
          ["Sec-WebSocket-Key", WS_KEY],
          ["Sec-WebSocket-Version", "13"],
          ["Authorization", `Bearer ${staffToken}`],
          ["X-Verigate-User", "admin"],
          ["X_Verigate_User", "admin"],
          ["X-Verigate-Assertion", "forged.jwt.value"],
          ["X-Forwarded-For", "10.0.0.1"],
          ["X-Forwarded-Client-Cert", "Hash=forged"],
          ["X-Original-URL", "/admin"],
        ],
      },
      101,
    );
    expect(seen.url).toBe("/chat");
    expectAbsent(seen, "authorization", "x-verigate-user", "x-forwarded-client-cert");
    expectAbsent(seen, "x-original-url");
    expect(seen.headers.upgrade).toBe("websocket");
    expect(seen.headers.connection?.toLowerCase()).toBe("upgrade");
    const claims = await expectOnlyVerigateHeaders(seen, requestId);
    expect(claims).toMatchObject({ identity: { source: "token", subject: "alice-oidc" } });
  });
});
