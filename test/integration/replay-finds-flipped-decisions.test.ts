import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReplay } from "../../src/cli/replay-command.js";
import { expectAllowed, expectDenied, sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { runVerigate } from "../support/verigate-cli.js";

const HR_POLICY = `    policy:
      allow:
        - identity.commonName: alice
`;

const ROUTES = `routes:
  - name: hr
    match: { host: hr.test }
    upstream: "{{upstream}}"
${HR_POLICY}  - name: payroll
    match: { host: payroll.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.commonName: { in: [alice, bob] }
`;

/** Runs `verigate replay` in-process and returns its exit code and output lines. */
async function replay(config: string, log: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReplay(
    { config, log },
    { out: (line) => out.push(line), err: (line) => err.push(line) },
  );
  return { code, out, err };
}

describe("verigate replay re-decides a real audit log against a new config", () => {
  let h: GatewayHarness;
  let dir: string;
  let log: string;
  let newConfig: string;
  const ids: Record<string, string> = {};
  let otherLines = 0;
  let logLines = 0;

  beforeAll(async () => {
    h = await startGateway({ routes: ROUTES });
    dir = await mkdtemp(join(tmpdir(), "verigate-replay-"));
    const alice = h.pki.clients.alice;
    const bob = h.pki.clients.bob;

    // Recorded under the old config: what flips, what does not, what cannot be replayed.
    ids.aliceHr = String((await expectAllowed(h, { as: alice, host: "hr.test" })).line.requestId);
    ids.bobHr = String((await expectDenied(h, { as: bob, host: "hr.test" }, 403)).requestId);
    await expectAllowed(h, { as: alice, host: "payroll.test" });
    const anonymous = await expectDenied(h, { host: "hr.test" }, 401, [
      "client-certificate-required",
    ]);
    const unrouted = await sendToGateway(h, { as: alice, host: "elsewhere.test" });
    expect(unrouted.res.status).toBe(404);
    const malformed = await sendToGateway(h, { as: alice, host: "hr.test", path: "/a%2Fb" });
    expect(malformed.res.status).toBe(400);
    const nonce = await sendToGateway(h, {
      as: alice,
      method: "POST",
      path: "/.well-known/verigate/nonce",
    });
    expect(nonce.res.status).toBe(200);
    // What the audit line records of each: the inputs only where a route or the route table decided.
    expect(anonymous.input).toMatchObject({ identity: { source: "none" } });
    expect(unrouted.line.input).toBeDefined();
    expect(malformed.line.input).toBeUndefined();
    expect(nonce.line.input).toBeUndefined();

    const lines = h.audit.lines.map((line) => JSON.stringify(line));
    otherLines = h.audit.lines.filter((line) => line.msg !== "decision").length;
    log = join(dir, "audit.log");
    // A line cut short by a crash at the end of the log.
    await writeFile(log, `${lines.join("\n")}\n${lines[0]?.slice(0, 30) ?? "{"}\n`);
    logLines = lines.length + 1;

    // The same config with one policy changed: hr now lets bob in, and no longer alice.
    const text = await readFile(h.configFile, "utf8");
    expect(text).toContain(HR_POLICY);
    newConfig = join(dir, "new.yaml");
    await writeFile(newConfig, text.replace(HR_POLICY, HR_POLICY.replace("alice", "bob")));
  });
  afterAll(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("prints exactly the flips by direction, route and reason, and the counts", async () => {
    const { code, out, err } = await replay(newConfig, log);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const [header, ...rest] = out;
    expect(header).toMatch(
      new RegExp(
        `^replayed 5 decisions from ${log} against ${newConfig} \\(revision [0-9a-f]{12}\\)$`,
      ),
    );
    // The recorded lines name the old revision; the report names the new config's.
    const oldRevision = String(h.audit.decisions()[0]?.revision);
    expect(header).not.toContain(oldRevision);
    expect(rest).toEqual([
      "allow -> deny: 1",
      `  hr: no-matching-rule: 1 (e.g. ${ids.aliceHr})`,
      "deny -> allow: 1",
      `  hr: was no-matching-rule, now allow[0]: 1 (e.g. ${ids.bobHr})`,
      `unchanged: 3; not replayable: 2; other lines: ${otherLines}; unreadable lines: 1 (e.g. line ${logLines})`,
    ]);
  });

  it("finds nothing flipped against the config that made the decisions", async () => {
    const { code, out } = await replay(h.configFile, log);
    expect(code).toBe(0);
    expect(out.slice(1)).toEqual([
      "allow -> deny: 0",
      "deny -> allow: 0",
      `unchanged: 5; not replayable: 2; other lines: ${otherLines}; unreadable lines: 1 (e.g. line ${logLines})`,
    ]);
  });

  it("the built verigate replay prints the same report and exits 0", async () => {
    const { code, stdout, stderr } = await runVerigate(
      "replay",
      "--config",
      newConfig,
      "--log",
      log,
    );
    expect(code).toBe(0);
    const inProcess = await replay(newConfig, log);
    expect(stderr).toBe("");
    expect(stdout).toBe(`${inProcess.out.join("\n")}\n`);
    expect(stdout).toContain(`  hr: no-matching-rule: 1 (e.g. ${ids.aliceHr})\n`);
  });
});
