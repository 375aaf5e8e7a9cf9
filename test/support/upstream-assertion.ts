import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { expect } from "vitest";
import type { AssertionPayload } from "../../src/proxy/upstream-assertion.js";
import type { SeenRequest } from "./echo-upstream.js";
import type { GatewayHarness } from "./gateway-harness.js";
import { mtlsRequest } from "./mtls-client.js";

const keySets = new WeakMap<GatewayHarness, Promise<JSONWebKeySet>>();

/** The gateway's published assertion keys (GET /.well-known/verigate/jwks.json), fetched once per harness. */
function assertionKeysOf(h: GatewayHarness): Promise<JSONWebKeySet> {
  let keys = keySets.get(h);
  if (keys === undefined) {
    keys = mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      path: "/.well-known/verigate/jwks.json",
    }).then((res) => {
      expect(res.status).toBe(200);
      return res.json<JSONWebKeySet>();
    });
    keySets.set(h, keys);
  }
  return keys;
}

/**
 * What an upstream may believe about a request it received: the one
 * `x-verigate-assertion` on it, verified as an upstream would (verigate's published
 * keys, ES256, `iss` verigate, `aud` the route), whose `jti` is a verigate request id
 * (this request's, or with `assertion.reuseFor` an earlier one's of the same caller). Asserts too that no other header naming verigate reached the
 * upstream, so nothing the client wrote can pass for a verigate statement.
 * `at` is the gateway's clock (ms) when it is not the real one.
 */
export async function verifiedAssertionOf(
  h: GatewayHarness,
  seen: SeenRequest,
  route: string,
  at?: number,
): Promise<AssertionPayload> {
  const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
  expect(names.filter((name) => name.includes("verigate"))).toEqual(["x-verigate-assertion"]);
  const { payload } = await jwtVerify(
    String(seen.headers["x-verigate-assertion"]),
    createLocalJWKSet(await assertionKeysOf(h)),
    {
      issuer: "verigate",
      audience: route,
      algorithms: ["ES256"],
      ...(at === undefined ? {} : { currentDate: new Date(at) }),
    },
  );
  expect(payload.jti).toMatch(
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  return payload as unknown as AssertionPayload;
}
