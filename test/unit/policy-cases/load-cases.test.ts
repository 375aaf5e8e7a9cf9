import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/config-problem.js";
import {
  loadCaseFile,
  parseCaseClaims,
  validateCaseFile,
} from "../../../src/policy-cases/load-cases.js";

const request = { host: "payroll.localhost", path: "/api/pay" };

function problemsOf(value: unknown): string[] {
  return validateCaseFile(value, "/cases/x.test.yaml").problems.map(
    (p) => `${p.path}: ${p.message}`,
  );
}

describe("validateCaseFile", () => {
  it("accepts a case file, resolves config against it, defaults method and claims, parses durations", () => {
    const { caseFile, problems } = validateCaseFile(
      {
        config: "../payroll.yaml",
        cases: [
          {
            name: "a",
            request,
            claims: {
              tee: { age: "2m" },
              device: { age: 1500 },
              request: { time: "2030-01-01T00:00:00Z" },
            },
            expect: { decision: "deny", reasons: ["attestation-stale"], status: 403 },
          },
          { name: "b", request, expect: { decision: "allow" } },
        ],
      },
      "/cases/x.test.yaml",
    );
    expect(problems).toEqual([]);
    expect(caseFile?.configFile).toBe("/payroll.yaml");
    expect(caseFile?.cases[0]?.request.method).toBe("GET");
    expect(caseFile?.cases[0]?.claims.tee?.age).toBe(120_000);
    expect(caseFile?.cases[0]?.claims.device?.age).toBe(1500);
    expect(caseFile?.cases[0]?.claims.request?.time).toBe(Date.UTC(2030, 0, 1));
    expect(caseFile?.cases[1]?.claims).toEqual({});
  });

  it.each([
    [
      "unknown keys, at every level",
      {
        config: "c.yaml",
        extra: 1,
        cases: [
          {
            name: "a",
            request,
            claims: { tee: { measurment: "ab" } },
            expect: { decision: "allow" },
          },
        ],
      },
      [': unknown key "extra"', 'cases[0].claims.tee: unknown key "measurment"'],
    ],
    [
      "a missing expectation and a bad decision",
      {
        config: "c.yaml",
        cases: [
          { name: "a", request },
          { name: "b", request, expect: { decision: "maybe" } },
        ],
      },
      ["cases[0].expect: is required", 'cases[1].expect.decision: must be one of "allow", "deny"'],
    ],
    [
      "a duration without unit, a wrong type, a method in claims",
      {
        config: "c.yaml",
        cases: [
          {
            name: "a",
            request,
            claims: { tee: { age: "5 minutes", debug: "no" }, request: { method: "GET" } },
            expect: { decision: "deny" },
          },
        ],
      },
      [
        "cases[0].claims.tee.debug: Invalid input: expected boolean, received string",
        'cases[0].claims.tee.age: expected a duration such as 500ms, 10s or 5m, got "5 minutes"',
        'cases[0].claims.request: unknown key "method"',
      ],
    ],
    [
      "duplicate case names",
      {
        config: "c.yaml",
        cases: [
          { name: "a", request, expect: { decision: "allow" } },
          { name: "a", request, expect: { decision: "allow" } },
        ],
      },
      ['cases[1].name: duplicate case name "a"'],
    ],
  ])("reports %s as path: problem", (_what, value, expected) => {
    expect(problemsOf(value).sort()).toEqual([...expected].sort());
  });

  it("rejects an unknown reason code, so that typos cannot pass silently", () => {
    const problems = problemsOf({
      config: "c.yaml",
      cases: [
        { name: "a", request, expect: { decision: "deny", reasons: ["measurment-not-allowed"] } },
      ],
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^cases\[0\]\.expect\.reasons\[0\]: must be one of /);
  });
});

describe("parseCaseClaims", () => {
  it("parses JSON claims and reports problems under --claims", () => {
    expect(parseCaseClaims('{"identity":{"groups":["finance"]}}').claims).toEqual({
      identity: { groups: ["finance"] },
    });
    expect(parseCaseClaims("{nope").problems).toEqual([{ path: "--claims", message: "not JSON" }]);
    expect(parseCaseClaims('{"tee":{"debug":1}}').problems.map((p) => p.path)).toEqual([
      "--claims.tee.debug",
    ]);
  });
});

describe("loadCaseFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-cases-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("throws ConfigError for YAML syntax errors, a non-mapping, and a missing file", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "config: a\nconfig: b\n");
    await expect(loadCaseFile(bad)).rejects.toBeInstanceOf(ConfigError);
    const list = join(dir, "list.yaml");
    await writeFile(list, "- 1\n");
    await expect(loadCaseFile(list)).rejects.toThrow("must be a YAML mapping");
    await expect(loadCaseFile(join(dir, "absent.yaml"))).rejects.toThrow(
      "cannot read policy test file",
    );
  });
});
