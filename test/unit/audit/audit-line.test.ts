import { describe, expect, it } from "vitest";
import { writeAuditLine, type AuditRecord } from "../../../src/audit/audit-record.js";
import { createLogger } from "../../../src/audit/logger.js";
import { AuditCapture } from "../../support/audit-capture.js";

const RECORD: AuditRecord = {
  requestId: "rid-1",
  revision: "rev-1",
  route: "app",
  decision: "allow",
  reasons: ["allowed-by-rule"],
  status: 200,
  method: "GET",
  host: "app.test",
  path: "/",
  sourceIp: "127.0.0.1",
  identity: { source: "certificate", subject: "CN=alice", spiffeId: "spiffe://corp.test/alice" },
  tee: { platform: "sev-snp", measurement: "ab".repeat(48), issuer: "amd" },
  latencyMs: 1.23456,
};

async function linesOf(write: (capture: AuditCapture) => void): Promise<Record<string, unknown>[]> {
  const capture = new AuditCapture();
  write(capture);
  await new Promise((resolve) => setTimeout(resolve, 20));
  return capture.lines;
}

describe("writeAuditLine", () => {
  it("writes the line logger.info would, with the logger's bindings, straight to its destination", async () => {
    const [line] = await linesOf((capture) => {
      const logger = createLogger({ destination: capture }).child({ worker: 2 });
      writeAuditLine(logger, RECORD);
    });
    expect(line).toMatchObject({
      level: "info",
      worker: 2,
      msg: "decision",
      requestId: "rid-1",
      reasons: ["allowed-by-rule"],
      latencyMs: 1.235,
      subject: "CN=alice",
      spiffeId: "spiffe://corp.test/alice",
      identitySource: "certificate",
      teePlatform: "sev-snp",
      teeIssuer: "amd",
    });
    expect(new Date(String(line?.time)).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(line).not.toHaveProperty("identity");
    expect(line).not.toHaveProperty("deviceId");
  });

  it("writes nothing below the logger's level, and survives a value JSON cannot hold", async () => {
    const quiet = await linesOf((capture) => {
      writeAuditLine(createLogger({ destination: capture, level: "warn" }), RECORD);
    });
    expect(quiet).toEqual([]);
    const [line] = await linesOf((capture) => {
      const odd = { ...RECORD, detail: 10n as unknown as string };
      writeAuditLine(createLogger({ destination: capture }), odd);
    });
    expect(line).toMatchObject({ msg: "decision", requestId: "rid-1" });
  });
});
