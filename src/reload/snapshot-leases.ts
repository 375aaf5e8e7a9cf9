import type { Snapshot } from "../config/snapshot.js";
import { closeUpstream } from "../proxy/upstream.js";

/** Closes a snapshot's upstream connection pools (its routes' agents, and undici pools). */
export function closeUpstreamConnections(snapshot: Snapshot): void {
  for (const route of snapshot.routes) closeUpstream(route.upstream);
}

/**
 * Which snapshots requests still use. A request keeps the snapshot it arrived
 * under to its end, so a snapshot replaced by a reload is retired, not closed:
 * its upstream connection pools close when its last request ends.
 */
export class SnapshotLeases {
  readonly #inFlight = new Map<Snapshot, number>();
  readonly #retired = new Set<Snapshot>();

  /** A request starts under `snapshot`; call `release` when it ends. */
  acquire(snapshot: Snapshot): void {
    this.#inFlight.set(snapshot, (this.#inFlight.get(snapshot) ?? 0) + 1);
  }

  release(snapshot: Snapshot): void {
    const left = (this.#inFlight.get(snapshot) ?? 1) - 1;
    if (left > 0) {
      this.#inFlight.set(snapshot, left);
      return;
    }
    this.#inFlight.delete(snapshot);
    if (this.#retired.delete(snapshot)) closeUpstreamConnections(snapshot);
  }

  /** `snapshot` was replaced: close its pools now, or when its last request ends. */
  retire(snapshot: Snapshot): void {
    if (this.#inFlight.has(snapshot)) this.#retired.add(snapshot);
    else closeUpstreamConnections(snapshot);
  }

  /** Shutting down: closes the pools of every snapshot still held, and of `current`. */
  closeAll(current: Snapshot): void {
    for (const snapshot of new Set([current, ...this.#retired, ...this.#inFlight.keys()]))
      closeUpstreamConnections(snapshot);
    this.#retired.clear();
    this.#inFlight.clear();
  }
}
