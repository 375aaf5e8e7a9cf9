import { rename } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reloader } from "../../src/reload/reloader.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { adminGet, mtlsRequest } from "../support/mtls-client.js";
import { ALICE_ONLY_ROUTE, editConfig, reloaderFor } from "../support/reload-harness.js";

describe("a reload that fails", () => {
  let h: GatewayHarness;
  let reloader: Reloader;
  beforeAll(async () => {
    h = await startGateway({ extra: "reload: { watch: false }", routes: ALICE_ONLY_ROUTE });
    reloader = reloaderFor(h);
  });
  afterAll(async () => {
    reloader.close();
    await h.close();
  });

  /** Alice's requests, sent back to back until `stop` is called; resolves with every status. */
  function traffic(): { stop: () => Promise<number[]> } {
    let running = true;
    const statuses: number[] = [];
    const loop = (async () => {
      while (running) {
        const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice });
        statuses.push(res.status);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return statuses;
      },
    };
  }

  it("is rejected with its path: problem lines while traffic goes on under the old config", async () => {
    const revision = h.gateway.snapshot.revision;
    const load = traffic();
    await editConfig(h, `upstream: "`, `upstream: "ftp://nowhere.test" # was "`);
    await editConfig(h, "identity.commonName: alice", "identity.nickname: alice");
    const outcome = await reloader.reload("test");
    const statuses = await load.stop();

    expect(outcome.result).toBe("rejected");
    expect(outcome.revision).toBe(revision);
    const paths = outcome.problems.map((problem) => problem.path);
    expect(paths).toContain("routes[0].upstream");
    expect(paths.some((path) => path.startsWith("routes[0].policy.allow[0]"))).toBe(true);
    const logged = h.audit.lines.find(
      (line) => line.msg === "config rejected; the config in force keeps serving",
    );
    expect(logged?.["problems"]).toEqual(
      outcome.problems.map((problem) => `${problem.path}: ${problem.message}`),
    );
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(h.gateway.snapshot.revision).toBe(revision);
    const metrics = (await adminGet(h.adminPort, "/metrics")).body;
    expect(metrics).toContain('verigate_config_reloads_total{result="rejected"} 1');
  });

  it("is rejected when a file it names is missing, and the old CA still verifies clients", async () => {
    await editConfig(h, `upstream: "ftp://nowhere.test" # was "`, `upstream: "`);
    await editConfig(h, "identity.nickname: alice", "identity.commonName: alice");
    await rename(h.files.clientCAs, `${h.files.clientCAs}.moved`);
    try {
      const outcome = await reloader.reload("test");
      expect(outcome.result).toBe("rejected");
      expect(outcome.problems[0]?.path).toBe("tls.clientCAs");
      expect(outcome.problems[0]?.message).toMatch(/cannot read .* \(ENOENT\)/);
      const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice });
      expect(res.status).toBe(200);
    } finally {
      await rename(`${h.files.clientCAs}.moved`, h.files.clientCAs);
    }
  });

  it("is rejected whole when it changes a setting only a restart applies", async () => {
    await editConfig(
      h,
      "listen: { address: 127.0.0.1, port: 0 }",
      "listen: { address: 127.0.0.1, port: 1 }",
    );
    await editConfig(h, "identity.commonName: alice", "identity.commonName: bob");
    const outcome = await reloader.reload("test");
    expect(outcome.result).toBe("rejected");
    expect(outcome.problems).toEqual([
      {
        path: "listen",
        message: "changed, and a reload cannot apply it: restart verigate to apply it",
      },
    ]);
    // The policy change in the same file did not apply either.
    const alice = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice });
    expect(alice.status).toBe(200);
  });
});
