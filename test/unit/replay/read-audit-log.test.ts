import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseAuditLine, type AuditLogEntry } from "../../../src/replay/parse-audit-line.js";
import { readAuditLog } from "../../../src/replay/read-audit-log.js";
import { auditLine, RECORDED_TIME } from "./replay-fixture.js";

async function collect(input: Readable): Promise<AuditLogEntry[]> {
  const entries: AuditLogEntry[] = [];
  for await (const entry of readAuditLog(input)) entries.push(entry);
  return entries;
}

function withInput(input: unknown): string {
  return auditLine({ input });
}

describe("parseAuditLine", () => {
  it("reads a decision line with its input as a replayable decision", () => {
    expect(parseAuditLine(auditLine(), 1)).toEqual({
      kind: "decision",
      decision: {
        requestId: "r1",
        revision: "0123456789ab",
        route: "hr",
        effect: "allow",
        reasons: ["allowed-by-rule"],
        rule: "allow[0]",
        request: { method: "GET", host: "hr.test", path: "/" },
        claims: {
          identity: { source: "certificate", commonName: "alice" },
          request: { sourceIp: "10.0.0.7", time: RECORDED_TIME },
        },
      },
    });
  });

  it("records an audit-mode would-be deny as a deny", () => {
    const entry = parseAuditLine(
      auditLine({ wouldDeny: true, reasons: ["no-matching-rule"], rule: undefined }),
      1,
    );
    expect(entry).toMatchObject({
      kind: "decision",
      decision: { effect: "deny", reasons: ["no-matching-rule"] },
    });
  });

  it("keeps device and TEE facts, and leaves claims out when the line has no input", () => {
    const tee = { platform: "sev-snp", debug: false, age: 1200, boundToClientCert: true };
    const device = { managed: true, osVersion: "14.2" };
    const entry = parseAuditLine(
      withInput({ identity: { source: "none" }, device, tee, time: 5 }),
      1,
    );
    expect(entry).toMatchObject({
      decision: { claims: { identity: { source: "none" }, device, tee } },
    });
    const bare = parseAuditLine(auditLine({ input: undefined }), 1);
    expect(bare?.kind).toBe("decision");
    expect(bare).not.toHaveProperty("decision.claims");
  });

  it.each([
    ["a blank line", "   ", undefined],
    ["a startup message", JSON.stringify({ msg: "listening", port: 8443 }), { kind: "other" }],
    ["a JSON object without msg", JSON.stringify({ a: 1 }), { kind: "other" }],
  ])("skips %s", (_name, text, expected) => {
    expect(parseAuditLine(text, 3)).toEqual(expected);
  });

  it.each([
    ["plain text", "Server listening on 8443", "not JSON"],
    ["a truncated line", auditLine().slice(0, 40), "not JSON"],
    ["a JSON array", "[1,2]", "not a JSON object"],
    ["a JSON number", "42", "not a JSON object"],
    ["a decision without requestId", auditLine({ requestId: undefined }), "requestId"],
    ["an unknown decision", auditLine({ decision: "maybe" }), "decision"],
    ["reasons that are not a list", auditLine({ reasons: "no-route" }), "reasons"],
    ["input: null", withInput(null), "input"],
    ["input without identity", withInput({ time: 1 }), "input.identity"],
    ["an identity without source", withInput({ identity: {}, time: 1 }), "input.identity.source"],
    [
      "an unknown identity source",
      withInput({ identity: { source: "guess" }, time: 1 }),
      "input.identity.source",
    ],
    [
      "an unknown identity field",
      withInput({ identity: { source: "none", role: "admin" }, time: 1 }),
      "input.identity",
    ],
    [
      "a string tee.debug",
      withInput({ identity: { source: "none" }, tee: { debug: "false" }, time: 1 }),
      "input.tee.debug",
    ],
    [
      "a non-numeric time",
      withInput({ identity: { source: "none" }, time: "yesterday" }),
      "input.time",
    ],
    ["no time", withInput({ identity: { source: "none" } }), "input.time"],
    ["a negative time", withInput({ identity: { source: "none" }, time: -1 }), "input.time"],
  ])("counts %s as unreadable, naming the field", (_name, text, problem) => {
    const entry = parseAuditLine(text, 7);
    expect(entry).toMatchObject({ kind: "unreadable", lineNumber: 7 });
    expect(entry?.kind === "unreadable" && entry.problem).toContain(problem);
  });
});

describe("readAuditLog", () => {
  it("streams every non-blank line in order, numbering lines from 1 (CRLF too)", async () => {
    const text = [
      auditLine({ requestId: "a" }),
      "",
      "garbage",
      JSON.stringify({ msg: "reload failed" }),
      auditLine({ requestId: "b", input: { identity: { source: 1 }, time: 1 } }),
      auditLine({ requestId: "c" }),
    ].join("\r\n");
    const entries = await collect(Readable.from([`${text}\r\n`]));
    expect(entries.map((e) => e.kind)).toEqual([
      "decision",
      "unreadable",
      "other",
      "unreadable",
      "decision",
    ]);
    expect(entries[1]).toMatchObject({ lineNumber: 3 });
    expect(entries[3]).toMatchObject({ lineNumber: 5 });
    expect(entries[4]).toMatchObject({ decision: { requestId: "c" } });
  });

  it("reads lines split across chunks", async () => {
    const line = auditLine({ requestId: "split" });
    const chunks = [line.slice(0, 10), line.slice(10, 50), `${line.slice(50)}\n`, "x"];
    const entries = await collect(Readable.from(chunks));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ kind: "decision", decision: { requestId: "split" } });
    expect(entries[1]).toEqual({ kind: "unreadable", lineNumber: 2, problem: "not JSON" });
  });

  it("throws the input's read error", async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error("disk"), { code: "EIO" }));
      },
    });
    await expect(collect(failing)).rejects.toMatchObject({ code: "EIO" });
  });
});
