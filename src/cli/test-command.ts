import { loadSnapshot } from "../config/compile-config.js";
import { ConfigError, formatProblem } from "../config/config-problem.js";
import type { Snapshot } from "../config/snapshot.js";
import { decideCase } from "../policy-cases/decide-case.js";
import { formatFailure } from "../policy-cases/format-trace.js";
import { loadCaseFile, type CaseFile } from "../policy-cases/load-cases.js";
import { meetsExpectation } from "../policy-cases/match-expectation.js";

/** Prints a file's problems as `path: problem` lines and a count, like `verigate check`. */
export function printProblems(file: string, error: ConfigError): void {
  for (const problem of error.problems) console.error(formatProblem(problem));
  console.error(`${file}: ${error.problems.length} problem(s)`);
}

/** Loads each config once; a config that does not compile is reported once and remembered. */
export class SnapshotCache {
  private readonly snapshots = new Map<string, Snapshot | ConfigError>();

  async load(caseFile: CaseFile, configFile = caseFile.configFile): Promise<Snapshot | undefined> {
    let loaded = this.snapshots.get(configFile);
    if (loaded === undefined) {
      try {
        loaded = await loadSnapshot(configFile);
      } catch (error: unknown) {
        if (!(error instanceof ConfigError)) throw error;
        loaded = error;
        printProblems(`${caseFile.file}: config ${configFile}`, error);
      }
      this.snapshots.set(configFile, loaded);
    }
    return loaded instanceof ConfigError ? undefined : loaded;
  }

  /** Closes the upstream agents the snapshots hold, so the process can exit. */
  close(): void {
    for (const loaded of this.snapshots.values()) {
      if (!(loaded instanceof ConfigError))
        for (const route of loaded.routes) route.upstream.agent.destroy();
    }
  }
}

/**
 * `verigate test FILE...`: runs every case of every policy test file against the
 * config it names. Prints one `FAIL` line per failing case and then `N passed, N failed`.
 * Exit 0 when every case passed; 1 when one failed or a file or config is invalid.
 */
export async function runTest(
  files: readonly string[],
  now: () => number = Date.now,
): Promise<number> {
  let passed = 0;
  let failed = 0;
  let isBroken = false;
  const snapshots = new SnapshotCache();
  try {
    for (const file of files) {
      let caseFile: CaseFile;
      try {
        caseFile = await loadCaseFile(file);
      } catch (error: unknown) {
        if (!(error instanceof ConfigError)) throw error;
        printProblems(file, error);
        isBroken = true;
        continue;
      }
      const snapshot = await snapshots.load(caseFile);
      if (snapshot === undefined) {
        isBroken = true;
        continue;
      }
      for (const policyCase of caseFile.cases) {
        const decision = decideCase(snapshot, policyCase.request, policyCase.claims, {
          now: now(),
        });
        if (meetsExpectation(decision, policyCase.expect)) {
          passed++;
        } else {
          failed++;
          console.log(formatFailure(file, policyCase.name, policyCase.expect, decision));
        }
      }
    }
  } finally {
    snapshots.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && !isBroken ? 0 : 1;
}
