import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVerigate } from "../support/verigate-cli.js";

describe("verigate revoke", () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-revoke-"));
    config = join(dir, "verigate.yaml");
    await writeFile(
      config,
      `tls: { cert: s.pem, key: k.pem, clientCAs: ca.pem }
routes:
  - name: app
    upstream: http://127.0.0.1:9000
    policy: { allow: [ { identity.commonName: alice } ] }
`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("explains that state memory has no revocation list, and exits 1", async () => {
    const result = await runVerigate(
      "revoke",
      "--fingerprint",
      "ab".repeat(32),
      "--config",
      config,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("a revocation list needs state.redis");
  });

  it("refuses what is not a SHA-256 fingerprint", async () => {
    const result = await runVerigate("revoke", "--fingerprint", "abc", "--config", config);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("64 hex digits");
  });
});
