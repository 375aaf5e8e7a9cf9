import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reloader } from "../../src/reload/reloader.js";
import { sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { adminGet } from "../support/mtls-client.js";
import { ALICE_ONLY_ROUTE, editConfig, reloaderFor } from "../support/reload-harness.js";

describe("hot reload of a saved config file", () => {
  let h: GatewayHarness;
  let reloader: Reloader;
  beforeAll(async () => {
    h = await startGateway({
      extra: "reload: { watch: true, debounce: 50ms }",
      routes: ALICE_ONLY_ROUTE,
    });
    reloader = reloaderFor(h);
  });
  afterAll(async () => {
    reloader.close();
    await h.close();
  });

  it("applies a valid change on save, and the audit line names the new revision", async () => {
    const before = await sendToGateway(h, { as: h.pki.clients.bob, path: "/x" });
    expect(before.res.status).toBe(403);
    const oldRevision = h.gateway.snapshot.revision;

    await editConfig(h, "identity.commonName: alice", "identity.commonName: { in: [alice, bob] }");
    await expect.poll(() => h.gateway.snapshot.revision, { timeout: 5000 }).not.toBe(oldRevision);

    const after = await sendToGateway(h, { as: h.pki.clients.bob, path: "/x" });
    expect(after.res.status).toBe(200);
    expect(after.line.revision).toBe(h.gateway.snapshot.revision);
    expect(before.line.revision).toBe(oldRevision);
    const reloaded = h.audit.lines.find((line) => line.msg === "config reloaded");
    expect(reloaded).toMatchObject({
      trigger: "file change",
      previous: oldRevision,
      revision: h.gateway.snapshot.revision,
    });
    const ready = (await adminGet(h.adminPort, "/readyz")).json();
    expect(ready["revision"]).toBe(h.gateway.snapshot.revision);
    const metrics = (await adminGet(h.adminPort, "/metrics")).body;
    expect(metrics).toContain('verigate_config_reloads_total{result="applied"} 1');
    expect(metrics).toContain(
      `verigate_config_loaded_timestamp_seconds{revision="${h.gateway.snapshot.revision}"}`,
    );
    expect(metrics).not.toContain(`revision="${oldRevision}"`);
  });

  it("says unchanged when the files hash to the revision in force", async () => {
    const revision = h.gateway.snapshot.revision;
    const outcome = await reloader.reload("test");
    expect(outcome).toEqual({ result: "unchanged", revision, problems: [] });
  });
});
