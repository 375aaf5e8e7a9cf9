import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { APP_ROUTES } from "../support/test-routes.js";
import { thumbprintOf } from "../support/token-keys.js";

describe("the signed assertion an upstream receives", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  async function jwks(): Promise<JSONWebKeySet> {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      path: "/.well-known/verigate/jwks.json",
    });
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("public, max-age=300");
    return res.json<JSONWebKeySet>();
  }

  it("verifies against /.well-known/verigate/jwks.json and says who called, for this route and request", async () => {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/pay",
      headers: { "x-verigate-assertion": "forged.by.client" },
    });
    expect(res.status).toBe(200);
    const token = h.upstream.seen.at(-1)?.headers["x-verigate-assertion"];
    expect(typeof token).toBe("string");
    expect(token).not.toBe("forged.by.client");
    const keys = createLocalJWKSet(await jwks());
    const { payload, protectedHeader } = await jwtVerify(String(token), keys, {
      issuer: "verigate",
      audience: "app",
      algorithms: ["ES256"],
    });
    expect(protectedHeader.alg).toBe("ES256");
    expect(payload).toMatchObject({
      jti: res.headers["x-request-id"],
      rev: h.gateway.snapshot.revision,
      cnf: { "x5t#S256": thumbprintOf(h.pki.clients.alice) },
      identity: {
        source: "certificate",
        commonName: "alice",
        spiffeId: "spiffe://corp.test/user/alice",
      },
    });
    expect(String(payload.sub)).toContain("CN=alice");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
  });

  it("is refused by an upstream that checks the audience of another route", async () => {
    await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice });
    const token = String(h.upstream.seen.at(-1)?.headers["x-verigate-assertion"]);
    await expect(
      jwtVerify(token, createLocalJWKSet(await jwks()), {
        issuer: "verigate",
        audience: "payroll",
        algorithms: ["ES256"],
      }),
    ).rejects.toThrow(/aud/);
  });

  it("serves the public keys only, and only to GET and HEAD", async () => {
    const set = await jwks();
    expect(set.keys.length).toBeGreaterThan(0);
    for (const key of set.keys) expect(key).not.toHaveProperty("d");
    const post = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      method: "POST",
      path: "/.well-known/verigate/jwks.json",
    });
    expect(post.status).toBe(405);
  });

  it("hands one caller's requests to a route the same assertion, named for the first of them", async () => {
    const seenBefore = h.upstream.seen.length;
    const ids: string[] = [];
    for (const path of ["/one", "/two", "/three"]) {
      const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice, path });
      expect(res.status).toBe(200);
      ids.push(String(res.headers["x-request-id"]));
    }
    const tokens = h.upstream.seen.slice(seenBefore).map((r) => r.headers["x-verigate-assertion"]);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    const { payload } = await jwtVerify(String(tokens[0]), createLocalJWKSet(await jwks()), {
      issuer: "verigate",
      audience: "app",
    });
    // An earlier test's request of alice's may have been the first: the id is verigate's either way.
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids).not.toContain(tokens[0]);
    // Another caller gets an assertion of its own.
    const carol = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.teeGood });
    expect(carol.status).toBe(200);
    expect(h.upstream.seen.at(-1)?.headers["x-verigate-assertion"]).not.toBe(tokens[0]);
  });
});

describe("the assertion with assertion.reuseFor: 0s", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES, extra: "assertion: { reuseFor: 0s }" });
  });
  afterAll(() => h.close());

  it("is signed for every request: its jti is that request's x-request-id", async () => {
    for (const path of ["/one", "/two"]) {
      const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice, path });
      expect(res.status).toBe(200);
      const token = String(h.upstream.seen.at(-1)?.headers["x-verigate-assertion"]);
      const [, body] = token.split(".");
      const payload = JSON.parse(Buffer.from(String(body), "base64url").toString()) as {
        jti: string;
      };
      expect(payload.jti).toBe(res.headers["x-request-id"]);
    }
  });
});
