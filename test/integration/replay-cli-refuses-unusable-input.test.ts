import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDevPki } from "../../src/dev-pki/write-dev-pki.js";
import { runVerigate } from "../support/verigate-cli.js";

const CONFIG = `tls: { cert: pki/server.pem, key: pki/server-key.pem, clientCAs: pki/ca.pem }
routes:
  - name: hr
    match: { host: hr.test }
    upstream: http://127.0.0.1:9000
    policy:
      allow:
        - identity.commonName: alice
`;

describe("verigate replay with a log or config it cannot use", () => {
  let dir: string;
  let log: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-replay-cli-"));
    log = join(dir, "audit.log");
    await writeFile(log, "");
    // The config names a dev PKI under pki/ beside it, as `verigate dev-pki --out pki` writes it.
    await writeDevPki(join(dir, "pki"));
    await writeFile(join(dir, "good.yaml"), CONFIG);
    await writeFile(
      join(dir, "broken.yaml"),
      CONFIG.replace("commonName: alice", "commonName: { hass: alice }").replace(
        "pki/server.pem",
        "pki/absent.pem",
      ),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("exits 1 with one line when the log is missing", async () => {
    const missing = join(dir, "nope.log");
    const result = await runVerigate(
      "replay",
      "--config",
      join(dir, "broken.yaml"),
      "--log",
      missing,
    );
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: `cannot read audit log "${missing}" (ENOENT)\n`,
    });
  });

  it("exits 1 with one line when the log is a folder", async () => {
    const folder = join(dir, "logs");
    await mkdir(folder);
    const result = await runVerigate("replay", "--config", join(dir, "good.yaml"), "--log", folder);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: `cannot read audit log "${folder}" (EISDIR)\n`,
    });
  });

  it("exits 1 with one line when the config is missing", async () => {
    const missing = join(dir, "nope.yaml");
    const result = await runVerigate("replay", "--config", missing, "--log", log);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: `cannot read config file "${missing}" (ENOENT)\n`,
    });
  });

  it("exits 1 with path: problem lines when the config does not compile", async () => {
    const result = await runVerigate("replay", "--config", join(dir, "broken.yaml"), "--log", log);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^routes\[0\]\.policy\.allow\[0\]\.identity\.commonName: /m);
    expect(result.stderr).toMatch(/^tls\.cert: cannot read "pki\/absent\.pem"/m);
  });

  it("exits 0 with an empty report for an empty log", async () => {
    const config = join(dir, "good.yaml");
    const result = await runVerigate("replay", "--config", config, "--log", log);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n").slice(1)).toEqual([
      "allow -> deny: 0",
      "deny -> allow: 0",
      "unchanged: 0; not replayable: 0; other lines: 0; unreadable lines: 0",
      "",
    ]);
    expect(result.stdout).toMatch(
      new RegExp(`^replayed 0 decisions from ${log} against ${config} `),
    );
  });

  it("exits 2 with usage when --log is missing", async () => {
    const result = await runVerigate("replay", "--config", join(dir, "broken.yaml"));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("verigate replay: --log is required");
    expect(result.stderr).toContain("verigate replay --config NEW --log AUDIT.log");
  });
});
