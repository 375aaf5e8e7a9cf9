import { describe, expect, it } from "vitest";
import { FlipGroups, type Flip } from "../../../src/replay/flip-groups.js";

function flip(route: string, reason: string, requestId: string, deny = true): Flip {
  return { direction: deny ? "allow -> deny" : "deny -> allow", route, reason, requestId };
}

describe("FlipGroups", () => {
  it("counts by direction, route and reason, keeping the first three request ids", () => {
    const groups = new FlipGroups();
    for (const id of ["r1", "r2", "r3", "r4", "r5"]) groups.add(flip("hr", "no-matching-rule", id));
    groups.add(flip("hr", "denied-by-rule", "r6"));
    groups.add(flip("hr", "was no-route, now allow[0]", "r7", false));
    expect(groups.total("allow -> deny")).toBe(6);
    expect(groups.total("deny -> allow")).toBe(1);
    expect(groups.list("allow -> deny")).toEqual([
      { route: "hr", reason: "no-matching-rule", count: 5, examples: ["r1", "r2", "r3"] },
      { route: "hr", reason: "denied-by-rule", count: 1, examples: ["r6"] },
    ]);
  });

  it("lists the largest groups first, then by route and reason, whatever the order of arrival", () => {
    const groups = new FlipGroups();
    groups.add(flip("payroll", "b", "1"));
    groups.add(flip("hr", "b", "2"));
    groups.add(flip("hr", "a", "3"));
    groups.add(flip("zeta", "a", "4"));
    groups.add(flip("zeta", "a", "5"));
    expect(groups.list("allow -> deny").map((g) => `${g.route}/${g.reason}/${g.count}`)).toEqual([
      "zeta/a/2",
      "hr/a/1",
      "hr/b/1",
      "payroll/b/1",
    ]);
  });

  it("keeps routes and reasons apart even when their texts could run together", () => {
    const groups = new FlipGroups();
    groups.add(flip("a: b", "c", "1"));
    groups.add(flip("a", "b: c", "2"));
    expect(groups.list("allow -> deny")).toHaveLength(2);
  });

  it("has no groups and a zero total for a direction nothing flipped", () => {
    const groups = new FlipGroups();
    groups.add(flip("hr", "x", "1"));
    expect(groups.list("deny -> allow")).toEqual([]);
    expect(groups.total("deny -> allow")).toBe(0);
  });

  it("hands out copies: a listed group does not change the tally", () => {
    const groups = new FlipGroups();
    groups.add(flip("hr", "x", "1"));
    const [listed] = groups.list("allow -> deny");
    (listed?.examples as string[]).push("forged");
    expect(groups.list("allow -> deny")[0]?.examples).toEqual(["1"]);
  });
});
