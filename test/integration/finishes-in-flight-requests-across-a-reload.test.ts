import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reloader } from "../../src/reload/reloader.js";
import { sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { ALICE_ONLY_ROUTE, editConfig, reloaderFor } from "../support/reload-harness.js";

describe("a request in flight when the config is swapped", () => {
  let h: GatewayHarness;
  let reloader: Reloader;
  beforeAll(async () => {
    h = await startGateway({
      extra: "reload: { watch: false }",
      routes: ALICE_ONLY_ROUTE,
    });
    reloader = reloaderFor(h);
  });
  afterAll(async () => {
    reloader.close();
    await h.close();
  });

  it("finishes under the snapshot it started with; the next request gets the new one", async () => {
    const oldRevision = h.gateway.snapshot.revision;
    const inFlight = sendToGateway(h, { as: h.pki.clients.alice, path: "/delay/1" });
    await expect.poll(() => h.upstream.seen.some((seen) => seen.url === "/delay/1")).toBe(true);

    // The new config moves the route to another upstream and denies alice.
    await editConfig(h, `upstream: "`, `upstream: "http://127.0.0.1:9" # was "`);
    await editConfig(h, "identity.commonName: alice", "identity.commonName: bob");
    const outcome = await reloader.reload("test");
    expect(outcome.result).toBe("applied");

    const { res, line } = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe("late but complete");
    expect(line.revision).toBe(oldRevision);

    const next = await sendToGateway(h, { as: h.pki.clients.alice, path: "/delay/2" });
    expect(next.res.status).toBe(403);
    expect(next.line.revision).toBe(outcome.revision);
    expect(h.upstream.seen.some((seen) => seen.url === "/delay/2")).toBe(false);
  });
});
