import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDevPki } from "../../src/dev-pki/write-dev-pki.js";
import { runVerigate } from "../support/verigate-cli.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

const CONFIG = `tls: { cert: pki/server.pem, key: pki/server-key.pem, clientCAs: pki/ca.pem, crl: pki/clients.crl }
routes:
  - name: payroll
    match: { host: payroll.localhost, pathPrefix: /api/ }
    upstream: http://127.0.0.1:9000
    policy:
      allow:
        - identity.groups: { has: finance }
          tee.debug: false
`;

const CASES = `config: finance-policy.yaml
cases:
  - name: finance in a production TEE
    request: { host: payroll.localhost, path: /api/pay }
    claims: { identity: { groups: [finance] }, tee: { debug: false } }
    expect: { decision: allow, route: payroll }
  - name: debug TEE is denied
    request: { host: payroll.localhost, path: /api/pay }
    claims: { identity: { groups: [finance] }, tee: { debug: true } }
    expect: { decision: deny, reasons: [attestation-debug-enabled] }
  - name: wrongly expects the debug TEE to pass
    request: { host: payroll.localhost, path: /api/pay, method: POST }
    claims: { identity: { groups: [finance] }, tee: { debug: true } }
    expect: { decision: allow, route: payroll }
`;

describe("verigate test and verigate explain", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-test-cli-"));
    // The configs name a dev PKI under pki/ beside them, as `verigate dev-pki --out pki` writes it.
    await writeDevPki(join(dir, "pki"));
    await writeFile(join(dir, "finance-policy.yaml"), CONFIG);
    await writeFile(join(dir, "cases.test.yaml"), CASES);
    await writeFile(
      join(dir, "passing.test.yaml"),
      CASES.slice(0, CASES.indexOf("  - name: wrongly")),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints a FAIL line per failing case and the closing count, and exits 1", async () => {
    const file = join(dir, "cases.test.yaml");
    const result = await runVerigate("test", file);
    expect(result.code).toBe(1);
    expect(result.stdout.split("\n")).toEqual([
      `FAIL ${file}: wrongly expects the debug TEE to pass: expected allow (payroll), got deny [no-matching-rule, attestation-debug-enabled] (payroll)`,
      "2 passed, 1 failed",
      "",
    ]);
  });

  it("exits 0 when every case passes", async () => {
    const result = await runVerigate("test", join(dir, "passing.test.yaml"));
    expect(result).toMatchObject({ code: 0, stdout: "2 passed, 0 failed\n" });
  });

  it("exits 1 with path: problem lines for an invalid case file", async () => {
    const file = join(dir, "bad.test.yaml");
    await writeFile(
      file,
      "config: finance-policy.yaml\ncases:\n  - name: x\n    request: { host: h, path: / }\n    expect: { decision: perhaps }\n    claims: { tee: { debgu: true } }\n",
    );
    const result = await runVerigate("test", file, join(dir, "passing.test.yaml"));
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")).toEqual(
      expect.arrayContaining([
        'cases[0].claims.tee: unknown key "debgu"',
        'cases[0].expect.decision: must be one of "allow", "deny"',
        `${file}: 2 problem(s)`,
      ]),
    );
    expect(result.stdout).toBe("2 passed, 0 failed\n");
  });

  it("exits 1 with path: problem lines when the config does not compile", async () => {
    await writeFile(join(dir, "broken.yaml"), CONFIG.replace("has: finance", "hass: finance"));
    const file = join(dir, "broken.test.yaml");
    await writeFile(file, CASES.replace("config: finance-policy.yaml", "config: broken.yaml"));
    const result = await runVerigate("test", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^routes\[0\]\.policy\.allow\[0\]/m);
    expect(result.stdout).toBe("0 passed, 0 failed\n");
  });

  it("passes every case of the shipped examples' policy tests", async () => {
    // Their own folder, as in the repository: examples/*.yaml and examples/policy-tests/.
    const examples = join(dir, "examples");
    const tests = join(examples, "policy-tests");
    await mkdir(tests, { recursive: true });
    await writeDevPki(join(examples, "pki"));
    for (const name of await readdir(EXAMPLES)) {
      if (name.endsWith(".yaml")) await copyFile(join(EXAMPLES, name), join(examples, name));
    }
    const files: string[] = [];
    for (const name of await readdir(join(EXAMPLES, "policy-tests"))) {
      await copyFile(join(EXAMPLES, "policy-tests", name), join(tests, name));
      files.push(join(tests, name));
    }
    expect(files.length).toBeGreaterThanOrEqual(2);
    const result = await runVerigate("test", ...files);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^\d+ passed, 0 failed\n$/);
    expect(result.code).toBe(0);
  });

  it("explains a request: route, every criterion with expected and actual, and the decision", async () => {
    const result = await runVerigate(
      "explain",
      "--config",
      join(dir, "finance-policy.yaml"),
      "--host",
      "payroll.localhost",
      "--path",
      "/api/pay",
      "--claims",
      JSON.stringify({ identity: { groups: ["finance"] }, tee: { debug: true } }),
    );
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")).toEqual([
      "request: GET payroll.localhost/api/pay",
      "route: payroll (routes[0])",
      "identity: certificate",
      "allow[0]: not matched",
      '  [x] identity.groups has finance   (actual: ["finance"])',
      "  [ ] tee.debug eq false   (actual: true)",
      "decision: deny (no-matching-rule, attestation-debug-enabled) status 403",
      "",
    ]);
  });

  it("explains a case by name, and says why no route was chosen", async () => {
    const named = await runVerigate(
      "explain",
      "--case",
      join(dir, "cases.test.yaml"),
      "--name",
      "wrongly expects the debug TEE to pass",
    );
    expect(named.code).toBe(0);
    expect(named.stdout).toContain("  [ ] tee.debug eq false   (actual: true)\n");
    expect(named.stdout).toContain("expected: allow: FAILS\n");

    const none = await runVerigate(
      "explain",
      "--config",
      join(dir, "finance-policy.yaml"),
      "--host",
      "payroll.localhost",
      "--path",
      "/elsewhere",
    );
    expect(none.stdout).toContain(
      "route: none (no route matches host payroll.localhost and path /elsewhere)\n",
    );
    expect(none.stdout).toContain("decision: deny (no-route) status 404\n");
  });

  it("exits 2 with usage when test has no file or explain lacks --host", async () => {
    expect((await runVerigate("test")).code).toBe(2);
    const result = await runVerigate("explain", "--config", join(dir, "finance-policy.yaml"));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--host is required");
  });
});
