import { resolve } from "node:path";
import { ConfigError, formatProblem } from "../config/config-problem.js";
import { decideCase } from "../policy-cases/decide-case.js";
import { formatExplanation } from "../policy-cases/format-trace.js";
import { loadCaseFile, parseCaseClaims, type CaseFile } from "../policy-cases/load-cases.js";
import { meetsExpectation } from "../policy-cases/match-expectation.js";
import { printProblems, SnapshotCache } from "./test-command.js";

/** `verigate explain --config FILE --host H --path P [--method M] [--claims JSON]`. */
export interface ExplainRequestOptions {
  readonly config: string;
  readonly host: string;
  readonly path: string;
  readonly method?: string | undefined;
  readonly claims?: string | undefined;
}

/**
 * Explains one request: the route chosen (or why none), every rule and criterion
 * with expected and actual values, and the decision. Exit 0; 1 when the config or
 * the claims are invalid.
 */
export async function runExplainRequest(options: ExplainRequestOptions): Promise<number> {
  const parsed = parseCaseClaims(options.claims ?? "{}");
  if (parsed.claims === undefined) {
    for (const problem of parsed.problems) console.error(formatProblem(problem));
    return 1;
  }
  const snapshots = new SnapshotCache();
  try {
    const config = resolve(options.config);
    const pseudo: CaseFile = { file: "--config", configFile: config, cases: [] };
    const snapshot = await snapshots.load(pseudo);
    if (snapshot === undefined) return 1;
    const request = { host: options.host, path: options.path, method: options.method ?? "GET" };
    const decision = decideCase(snapshot, request, parsed.claims, { explain: true });
    for (const line of formatExplanation(request, decision)) console.log(line);
    return 0;
  } finally {
    snapshots.close();
  }
}

/**
 * `verigate explain --case FILE [--name CASE] [--config FILE]`: explains the named case
 * (every case without `--name`) and says whether it meets its expectation. Exit 0;
 * 1 when a file is invalid or no case has that name.
 */
export async function runExplainCase(
  file: string,
  name: string | undefined,
  config: string | undefined,
): Promise<number> {
  let caseFile: CaseFile;
  try {
    caseFile = await loadCaseFile(file);
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    printProblems(file, error);
    return 1;
  }
  const cases = caseFile.cases.filter((c) => name === undefined || c.name === name);
  if (cases.length === 0) {
    console.error(`${file}: no case named ${JSON.stringify(name)}`);
    return 1;
  }
  const snapshots = new SnapshotCache();
  try {
    const snapshot = await snapshots.load(
      caseFile,
      config === undefined ? undefined : resolve(config),
    );
    if (snapshot === undefined) return 1;
    for (const [i, policyCase] of cases.entries()) {
      if (i > 0) console.log("");
      console.log(`case: ${policyCase.name}`);
      const decision = decideCase(snapshot, policyCase.request, policyCase.claims, {
        explain: true,
      });
      for (const line of formatExplanation(policyCase.request, decision)) console.log(line);
      const verdict = meetsExpectation(decision, policyCase.expect) ? "passes" : "FAILS";
      console.log(`expected: ${policyCase.expect.decision}: ${verdict}`);
    }
    return 0;
  } finally {
    snapshots.close();
  }
}
