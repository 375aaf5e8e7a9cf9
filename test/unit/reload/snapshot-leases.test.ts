import { Agent } from "node:http";
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../../src/config/snapshot.js";
import { SnapshotLeases } from "../../../src/reload/snapshot-leases.js";

/** A snapshot with one route whose agent records whether it was destroyed. */
function snapshotWithAgent(): { snapshot: Snapshot; destroyed: () => boolean } {
  const agent = new Agent();
  let destroyed = false;
  agent.destroy = () => {
    destroyed = true;
  };
  const snapshot = { routes: [{ upstream: { agent } }] } as unknown as Snapshot;
  return { snapshot, destroyed: () => destroyed };
}

describe("SnapshotLeases", () => {
  it("closes a retired snapshot's pools only when its last request ends", () => {
    const leases = new SnapshotLeases();
    const old = snapshotWithAgent();
    leases.acquire(old.snapshot);
    leases.acquire(old.snapshot);
    leases.retire(old.snapshot);
    expect(old.destroyed()).toBe(false);
    leases.release(old.snapshot);
    expect(old.destroyed()).toBe(false);
    leases.release(old.snapshot);
    expect(old.destroyed()).toBe(true);
  });

  it("closes an idle retired snapshot at once, and never the one in force", () => {
    const leases = new SnapshotLeases();
    const idle = snapshotWithAgent();
    leases.retire(idle.snapshot);
    expect(idle.destroyed()).toBe(true);
    const current = snapshotWithAgent();
    leases.acquire(current.snapshot);
    leases.release(current.snapshot);
    expect(current.destroyed()).toBe(false);
  });
});
