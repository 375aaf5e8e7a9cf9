import { describe, expect, it } from "vitest";
import { formatReplay } from "../../../src/replay/format-replay.js";
import { emptyTally } from "../../../src/replay/replay-decisions.js";

const subject = { log: "audit.log", config: "new.yaml", revision: "1a2b3c4d5e6f" };

describe("formatReplay", () => {
  it("writes the header, warnings, both directions with their groups, and the counts", () => {
    const tally = emptyTally();
    for (const id of ["r1", "r2", "r3", "r4"])
      tally.flips.add({
        direction: "allow -> deny",
        route: "payroll-api",
        reason: "no-matching-rule, measurement-not-allowed",
        requestId: id,
      });
    tally.flips.add({
      direction: "allow -> deny",
      route: "hr -> (no route)",
      reason: "no-route",
      requestId: "r5",
    });
    tally.flips.add({
      direction: "deny -> allow",
      route: "hr",
      reason: "was no-matching-rule, now allow[1]",
      requestId: "r6",
    });
    tally.unchanged = 116;
    tally.notReplayable = 4;
    tally.otherLines = 2;
    const warning = { route: "payroll-api", attributes: ["tee.claims.pcrs.8", "tee.claims.vmpl"] };
    expect(formatReplay(subject, tally, [warning])).toEqual([
      "replayed 122 decisions from audit.log against new.yaml (revision 1a2b3c4d5e6f)",
      "warning: route payroll-api reads raw claims (tee.claims.pcrs.8, tee.claims.vmpl), which audit lines do not record: its replayed decisions may differ",
      "allow -> deny: 5",
      "  payroll-api: no-matching-rule, measurement-not-allowed: 4 (e.g. r1, r2, r3)",
      "  hr -> (no route): no-route: 1 (e.g. r5)",
      "deny -> allow: 1",
      "  hr: was no-matching-rule, now allow[1]: 1 (e.g. r6)",
      "unchanged: 116; not replayable: 4; other lines: 2; unreadable lines: 0",
    ]);
  });

  it("lists both directions when nothing flipped, and the first unreadable lines", () => {
    const tally = emptyTally();
    tally.unchanged = 3;
    tally.unreadable = 5;
    tally.unreadableLines.push(2, 9, 11);
    expect(formatReplay(subject, tally, [])).toEqual([
      "replayed 3 decisions from audit.log against new.yaml (revision 1a2b3c4d5e6f)",
      "allow -> deny: 0",
      "deny -> allow: 0",
      "unchanged: 3; not replayable: 0; other lines: 0; unreadable lines: 5 (e.g. line 2, line 9, line 11)",
    ]);
  });
});
