/**
 * Re-decides recorded decisions against another config, offline, exactly as the
 * pipeline would (`decideCase`), and tallies which ones flip. A decision is compared
 * as if enforcing: an audit-mode route's would-be deny counts as a deny, and the new
 * config's `mode` is not applied either.
 *
 * @module
 */

import { decideCase, type CaseSnapshot } from "../policy-cases/decide-case.js";
import { FlipGroups, type Flip } from "./flip-groups.js";
import type { AuditLogEntry, RecordedDecision } from "./parse-audit-line.js";

/** What replaying one recorded decision gave. */
export type ReplayOutcome =
  | { readonly kind: "unchanged" }
  | { readonly kind: "not-replayable" }
  | { readonly kind: "flip"; readonly flip: Flip };

/** The counts of a whole log. */
export interface ReplayTally {
  readonly flips: FlipGroups;
  /** Replayed, and decided the same way (the reasons may differ). */
  unchanged: number;
  /** Decision lines without recorded inputs. */
  notReplayable: number;
  /** Lines that are not JSON objects, or decision lines that do not validate. */
  unreadable: number;
  /** The first unreadable lines' numbers (at most 3). */
  readonly unreadableLines: number[];
  /** JSON log lines that are not decisions. */
  otherLines: number;
}

const MAX_UNREADABLE_EXAMPLES = 3;

/** `(no route)` for the empty route name. */
function routeName(route: string): string {
  return route === "" ? "(no route)" : route;
}

/** `payroll`, or `payroll -> (no route)` when the new config routes the request elsewhere. */
export function routeLabel(recorded: string, replayed: string): string {
  return recorded === replayed
    ? routeName(replayed)
    : `${routeName(recorded)} -> ${routeName(replayed)}`;
}

/** Replays one recorded decision against `snapshot`. */
export function replayDecision(snapshot: CaseSnapshot, recorded: RecordedDecision): ReplayOutcome {
  // A malformed request was refused before any config was consulted (the WebSocket
  // check of an upgrade can even follow a route's allow): no config change alters it.
  if (recorded.claims === undefined || recorded.reasons.includes("malformed-request"))
    return { kind: "not-replayable" };
  const time = recorded.claims.request?.time;
  const replayed = decideCase(
    snapshot,
    recorded.request,
    recorded.claims,
    time === undefined ? {} : { now: time },
  );
  if (replayed.effect === recorded.effect) return { kind: "unchanged" };
  const route = routeLabel(recorded.route, replayed.route);
  if (replayed.effect === "deny") {
    return {
      kind: "flip",
      flip: {
        direction: "allow -> deny",
        route,
        reason: replayed.reasons.join(", "),
        requestId: recorded.requestId,
      },
    };
  }
  const allowedBy = replayed.decision?.rule ?? replayed.reasons.join(", ");
  return {
    kind: "flip",
    flip: {
      direction: "deny -> allow",
      route,
      reason: `was ${recorded.reasons.join(", ")}, now ${allowedBy}`,
      requestId: recorded.requestId,
    },
  };
}

/** A tally with nothing counted yet. */
export function emptyTally(): ReplayTally {
  return {
    flips: new FlipGroups(),
    unchanged: 0,
    notReplayable: 0,
    unreadable: 0,
    unreadableLines: [],
    otherLines: 0,
  };
}

/** Counts one audit log entry into `tally`, replaying it when it is a decision. */
export function tallyEntry(snapshot: CaseSnapshot, entry: AuditLogEntry, tally: ReplayTally): void {
  switch (entry.kind) {
    case "other":
      tally.otherLines++;
      return;
    case "unreadable":
      tally.unreadable++;
      if (tally.unreadableLines.length < MAX_UNREADABLE_EXAMPLES)
        tally.unreadableLines.push(entry.lineNumber);
      return;
    case "decision": {
      const outcome = replayDecision(snapshot, entry.decision);
      if (outcome.kind === "unchanged") tally.unchanged++;
      else if (outcome.kind === "not-replayable") tally.notReplayable++;
      else tally.flips.add(outcome.flip);
      return;
    }
  }
}

/** Replays every decision of an audit log against `snapshot`. */
export async function replayAuditLog(
  snapshot: CaseSnapshot,
  entries: AsyncIterable<AuditLogEntry>,
): Promise<ReplayTally> {
  const tally = emptyTally();
  for await (const entry of entries) tallyEntry(snapshot, entry, tally);
  return tally;
}
