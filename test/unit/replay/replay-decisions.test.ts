import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseAuditLine, type RecordedDecision } from "../../../src/replay/parse-audit-line.js";
import { readAuditLog } from "../../../src/replay/read-audit-log.js";
import {
  replayAuditLog,
  replayDecision,
  routeLabel,
} from "../../../src/replay/replay-decisions.js";
import { auditLine, RECORDED_TIME, route, snapshotOf } from "./replay-fixture.js";

/** The new config: hr lets only bob in; payroll needs a production TEE; status is open. */
const snapshot = snapshotOf(
  route("hr", { allow: [{ "identity.commonName": "bob" }] }),
  route("payroll", {
    allow: [{ "identity.commonName": { present: true }, "tee.debug": false }],
    deny: [{ "request.sourceIp": { cidr: ["203.0.113.0/24"] } }],
  }),
  route(
    "status",
    { allow: [{ "request.time": { lt: "2024-01-01T00:00:00Z" } }, { "request.method": "HEAD" }] },
    "optional",
  ),
);

function recorded(fields: Record<string, unknown> = {}): RecordedDecision {
  const entry = parseAuditLine(auditLine(fields), 1);
  if (entry?.kind !== "decision") throw new Error(`not a decision: ${JSON.stringify(entry)}`);
  return entry.decision;
}

const bobInput = { identity: { source: "certificate", commonName: "bob" }, time: RECORDED_TIME };
const denied = { decision: "deny", reasons: ["no-matching-rule"], rule: undefined, status: 403 };

describe("replayDecision", () => {
  it("is unchanged when the new config decides the same way", () => {
    expect(replayDecision(snapshot, recorded({ input: bobInput }))).toEqual({ kind: "unchanged" });
    // Different reasons, same effect: not a flip.
    const noRoute = recorded({ ...denied, route: "", reasons: ["no-route"], host: "gone.test" });
    expect(replayDecision(snapshot, noRoute)).toEqual({ kind: "unchanged" });
  });

  it("reports allow -> deny with the new deny reasons", () => {
    expect(replayDecision(snapshot, recorded({ requestId: "x1" }))).toEqual({
      kind: "flip",
      flip: {
        direction: "allow -> deny",
        route: "hr",
        reason: "no-matching-rule",
        requestId: "x1",
      },
    });
  });

  it("reports deny -> allow with the recorded reasons and the allowing rule", () => {
    const bob = recorded({ ...denied, requestId: "x2", input: bobInput });
    expect(replayDecision(snapshot, bob)).toEqual({
      kind: "flip",
      flip: {
        direction: "deny -> allow",
        route: "hr",
        reason: "was no-matching-rule, now allow[0]",
        requestId: "x2",
      },
    });
  });

  it("names both routes when the new config routes the request elsewhere", () => {
    const unrouted = recorded({ ...denied, route: "", reasons: ["no-route"], host: "status.test" });
    expect(replayDecision(snapshot, unrouted)).toMatchObject({
      flip: { route: "(no route) -> status", reason: "was no-route, now allow[0]" },
    });
    const vanished = recorded({ route: "old-api", host: "old-api.test" });
    expect(replayDecision(snapshot, vanished)).toMatchObject({
      flip: { direction: "allow -> deny", route: "old-api -> (no route)", reason: "no-route" },
    });
  });

  it("compares an audit-mode would-be deny as a deny", () => {
    const shadowed = recorded({
      decision: "allow",
      wouldDeny: true,
      reasons: ["no-matching-rule"],
    });
    // alice on hr: the new config denies too, so nothing flipped.
    expect(replayDecision(snapshot, shadowed)).toEqual({ kind: "unchanged" });
    const bob = recorded({ wouldDeny: true, reasons: ["no-matching-rule"], input: bobInput });
    expect(replayDecision(snapshot, bob)).toMatchObject({ flip: { direction: "deny -> allow" } });
  });

  it("decides with the recorded time, source address and TEE facts", () => {
    // Recorded in 2023, when allow[0] (before 2024) held: decided at today's time, it would not.
    const status = { ...denied, route: "status", host: "status.test", input: bobInput };
    expect(replayDecision(snapshot, recorded(status))).toMatchObject({
      flip: { direction: "deny -> allow", reason: "was no-matching-rule, now allow[0]" },
    });
    const tee = { platform: "sev-snp", debug: true };
    const payroll = { route: "payroll", host: "payroll.test", input: { ...bobInput, tee } };
    expect(replayDecision(snapshot, recorded(payroll))).toMatchObject({
      flip: { reason: "no-matching-rule, attestation-debug-enabled" },
    });
    const fromBlockedNet = {
      ...payroll,
      sourceIp: "203.0.113.9",
      input: { ...bobInput, tee: { debug: false } },
    };
    expect(replayDecision(snapshot, recorded(fromBlockedNet))).toMatchObject({
      flip: { reason: "denied-by-rule" },
    });
    expect(replayDecision(snapshot, recorded({ ...fromBlockedNet, sourceIp: "10.1.1.1" }))).toEqual(
      { kind: "unchanged" },
    );
  });

  it("replays a refused certificate on a required route through the identity gate", () => {
    const line = recorded({
      ...denied,
      route: "payroll",
      host: "payroll.test",
      reasons: ["client-certificate-untrusted"],
      status: 401,
      input: { identity: { source: "none" }, time: RECORDED_TIME },
    });
    expect(replayDecision(snapshot, line)).toEqual({ kind: "unchanged" });
  });

  it("does not replay lines without input, nor malformed requests", () => {
    expect(replayDecision(snapshot, recorded({ ...denied, input: undefined }))).toEqual({
      kind: "not-replayable",
    });
    // An upgrade that is not a WebSocket is refused after the route allowed it.
    const upgrade = recorded({ ...denied, reasons: ["malformed-request"], input: bobInput });
    expect(replayDecision(snapshot, upgrade)).toEqual({ kind: "not-replayable" });
  });

  it.each([
    ["hr", "hr", "hr"],
    ["", "", "(no route)"],
    ["hr", "", "hr -> (no route)"],
    ["", "hr", "(no route) -> hr"],
    ["hr", "payroll", "hr -> payroll"],
  ])("labels routes %j and %j as %j", (before, after, label) => {
    expect(routeLabel(before, after)).toBe(label);
  });
});

describe("replayAuditLog", () => {
  it("tallies a whole log: flips grouped by route and reason, and every other kind of line", async () => {
    const lines = [
      auditLine({ requestId: "a1" }), // alice on hr: allow -> deny
      auditLine({ requestId: "a2" }),
      auditLine({ requestId: "b1", ...denied, input: bobInput }), // bob on hr: deny -> allow
      auditLine({ requestId: "b2", input: bobInput }), // unchanged
      auditLine({ requestId: "n1", ...denied, input: undefined, reasons: ["token-invalid"] }),
      JSON.stringify({ msg: "verigate listening" }),
      "not json",
      auditLine({ requestId: "bad", input: { identity: { source: "none" }, time: "x" } }),
    ];
    const tally = await replayAuditLog(snapshot, readAuditLog(Readable.from([lines.join("\n")])));
    expect(tally.flips.list("allow -> deny")).toEqual([
      { route: "hr", reason: "no-matching-rule", count: 2, examples: ["a1", "a2"] },
    ]);
    expect(tally.flips.list("deny -> allow")).toEqual([
      { route: "hr", reason: "was no-matching-rule, now allow[0]", count: 1, examples: ["b1"] },
    ]);
    expect(tally).toMatchObject({
      unchanged: 1,
      notReplayable: 1,
      otherLines: 1,
      unreadable: 2,
      unreadableLines: [7, 8],
    });
  });
});
