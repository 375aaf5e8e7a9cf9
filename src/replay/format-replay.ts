/**
 * How `verigate replay` writes its report: plain lines, stable enough to grep and
 * for tests to compare exactly.
 *
 * ```
 * replayed 120 decisions from audit.log against new.yaml (revision 1a2b3c4d5e6f)
 * warning: route payroll-api reads raw claims (tee.claims.vmpl), which audit lines do not record: its replayed decisions may differ
 * allow -> deny: 3
 *   payroll-api: no-matching-rule, measurement-not-allowed: 2 (e.g. <id>, <id>)
 *   hr -> (no route): no-route: 1 (e.g. <id>)
 * deny -> allow: 1
 *   hr: was no-matching-rule, now allow[1]: 1 (e.g. <id>)
 * unchanged: 116; not replayable: 4; other lines: 0; unreadable lines: 0
 * ```
 *
 * @module
 */

import { FLIP_DIRECTIONS, type FlipGroup } from "./flip-groups.js";
import type { RawClaimsRoute } from "./raw-claims-routes.js";
import type { ReplayTally } from "./replay-decisions.js";

/** What the report names: the files as given and the new config's revision. */
export interface ReplaySubject {
  readonly log: string;
  readonly config: string;
  readonly revision: string;
}

/** `  payroll-api: no-matching-rule: 2 (e.g. <id>, <id>)`. */
export function formatFlipGroup(group: FlipGroup): string {
  return `  ${group.route}: ${group.reason}: ${group.count} (e.g. ${group.examples.join(", ")})`;
}

/** One warning line per route whose policy reads raw claims. */
export function formatRawClaimsWarning(route: RawClaimsRoute): string {
  return `warning: route ${route.route} reads raw claims (${route.attributes.join(", ")}), which audit lines do not record: its replayed decisions may differ`;
}

/** The last line: everything that did not flip. */
export function formatCounts(tally: ReplayTally): string {
  const examples =
    tally.unreadableLines.length === 0
      ? ""
      : ` (e.g. ${tally.unreadableLines.map((n) => `line ${n}`).join(", ")})`;
  return `unchanged: ${tally.unchanged}; not replayable: ${tally.notReplayable}; other lines: ${tally.otherLines}; unreadable lines: ${tally.unreadable}${examples}`;
}

/** The whole report: header, warnings, both directions (even when empty), counts. */
export function formatReplay(
  subject: ReplaySubject,
  tally: ReplayTally,
  rawClaimsRoutes: readonly RawClaimsRoute[],
): string[] {
  const flipped = FLIP_DIRECTIONS.reduce((sum, d) => sum + tally.flips.total(d), 0);
  const lines = [
    `replayed ${tally.unchanged + flipped} decisions from ${subject.log} against ${subject.config} (revision ${subject.revision})`,
    ...rawClaimsRoutes.map(formatRawClaimsWarning),
  ];
  for (const direction of FLIP_DIRECTIONS) {
    lines.push(`${direction}: ${tally.flips.total(direction)}`);
    lines.push(...tally.flips.list(direction).map(formatFlipGroup));
  }
  lines.push(formatCounts(tally));
  return lines;
}
