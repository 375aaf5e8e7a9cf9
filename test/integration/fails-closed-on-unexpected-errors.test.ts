import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompiledRoute, Snapshot } from "../../src/config/snapshot.js";
import type { CompiledPolicy } from "../../src/policy/compile-policy.js";
import { ALICE_ONLY_ROUTE } from "../support/reload-harness.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";

/**
 * A fault injected where no input can reach: the route's compiled policy throws, as
 * a bug would. The request path around it is real (sockets, TLS, claims, audit).
 */
function withThrowingPolicy(snapshot: Snapshot): Snapshot {
  const boom = (): never => {
    throw new Error("injected fault");
  };
  const policy = { evaluate: boom, explain: boom } as unknown as CompiledPolicy;
  const lookup = (host: string, path: string): CompiledRoute | undefined => {
    const route = snapshot.routeTable.lookup(host, path);
    return route === undefined ? undefined : { ...route, policy };
  };
  return { ...snapshot, routeTable: { ...snapshot.routeTable, lookup } };
}

describe("an unexpected error while deciding", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({
      extra: "reload: { watch: false }",
      routes: ALICE_ONLY_ROUTE,
    });
    expect(h.gateway.apply(withThrowingPolicy(h.gateway.snapshot))).toEqual([]);
  });
  afterAll(() => h.close());

  it("denies with 500 evaluation-error, forwards nothing, and is logged once", async () => {
    const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice });
    expect(res.status).toBe(500);
    expect(res.json()).toMatchObject({ error: "internal-error" });
    const requestId = String(res.headers["x-request-id"]);
    const line = await h.audit.decisionFor(requestId);
    expect(line).toMatchObject({ decision: "deny", reasons: ["evaluation-error"], status: 500 });
    const errors = h.audit.lines.filter((l) => l.msg === "evaluation failed; request denied");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.["requestId"]).toBe(requestId);
    expect(h.upstream.seen).toHaveLength(0);
  });
});
