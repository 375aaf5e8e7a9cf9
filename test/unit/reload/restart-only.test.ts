import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../../src/config/snapshot.js";
import { restartOnlyChanges } from "../../../src/reload/restart-only.js";

/** The fields restart-only settings are read from, with one engine. */
function snapshotWith(engine: "http-proxy-3" | "undici"): Snapshot {
  return {
    listen: { address: "127.0.0.1", port: 8443 },
    admin: { address: "127.0.0.1", port: 9090 },
    limits: { handshakeTimeout: 10_000, maxHeaderBytes: 16_384, nonceTtl: 60_000 },
    assertion: { keyPem: undefined, rotateEveryMs: undefined, issuer: undefined },
    proxy: { engine },
  } as unknown as Snapshot;
}

describe("restartOnlyChanges", () => {
  it("refuses a reload that changes proxy.engine", () => {
    expect(restartOnlyChanges(snapshotWith("http-proxy-3"), snapshotWith("undici"))).toEqual([
      {
        path: "proxy.engine",
        message: "changed, and a reload cannot apply it: restart verigate to apply it",
      },
    ]);
    expect(restartOnlyChanges(snapshotWith("undici"), snapshotWith("undici"))).toEqual([]);
  });
});
