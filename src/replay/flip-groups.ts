/**
 * Counts flipped decisions by direction, then by route and reason, keeping a few
 * example request ids per group. Memory grows with the number of distinct groups,
 * not with the number of flips.
 *
 * @module
 */

/** Which way a decision flipped. */
export type FlipDirection = "allow -> deny" | "deny -> allow";

/** Both directions, in the order a report lists them. */
export const FLIP_DIRECTIONS: readonly FlipDirection[] = ["allow -> deny", "deny -> allow"];

/** How many example request ids a group keeps. */
export const MAX_EXAMPLES = 3;

/** One decision that flipped, already labelled for grouping. */
export interface Flip {
  readonly direction: FlipDirection;
  /** `payroll`, or `old -> new` when the new config routes the request elsewhere. */
  readonly route: string;
  /** The reasons of the flip, e.g. `no-matching-rule` or `was no-matching-rule, now allow[1]`. */
  readonly reason: string;
  readonly requestId: string;
}

/** The flips of one direction that share a route and a reason. */
export interface FlipGroup {
  readonly route: string;
  readonly reason: string;
  readonly count: number;
  /** The first request ids seen, at most {@link MAX_EXAMPLES}. */
  readonly examples: readonly string[];
}

interface MutableGroup {
  readonly route: string;
  readonly reason: string;
  count: number;
  readonly examples: string[];
}

/** Larger groups first; ties by route, then reason, so a report is stable. */
function compareGroups(a: FlipGroup, b: FlipGroup): number {
  if (a.count !== b.count) return b.count - a.count;
  if (a.route !== b.route) return a.route < b.route ? -1 : 1;
  if (a.reason !== b.reason) return a.reason < b.reason ? -1 : 1;
  return 0;
}

/** An accumulator of flips. */
export class FlipGroups {
  private readonly groups = new Map<FlipDirection, Map<string, MutableGroup>>(
    FLIP_DIRECTIONS.map((direction) => [direction, new Map()]),
  );

  add(flip: Flip): void {
    const byKey = this.groups.get(flip.direction);
    if (byKey === undefined) return;
    const key = JSON.stringify([flip.route, flip.reason]);
    let group = byKey.get(key);
    if (group === undefined) {
      group = { route: flip.route, reason: flip.reason, count: 0, examples: [] };
      byKey.set(key, group);
    }
    group.count++;
    if (group.examples.length < MAX_EXAMPLES) group.examples.push(flip.requestId);
  }

  /** How many decisions flipped this way. */
  total(direction: FlipDirection): number {
    let total = 0;
    for (const group of this.groups.get(direction)?.values() ?? []) total += group.count;
    return total;
  }

  /** The groups of one direction, largest first. */
  list(direction: FlipDirection): FlipGroup[] {
    const groups = [...(this.groups.get(direction)?.values() ?? [])];
    return groups.map((group) => ({ ...group, examples: [...group.examples] })).sort(compareGroups);
  }
}
