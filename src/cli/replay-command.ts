import { open, type FileHandle } from "node:fs/promises";
import { loadSnapshot } from "../config/compile-config.js";
import { ConfigError, formatProblem } from "../config/config-problem.js";
import type { Snapshot } from "../config/snapshot.js";
import { formatReplay } from "../replay/format-replay.js";
import { findRawClaimsRoutes } from "../replay/raw-claims-routes.js";
import { readAuditLog } from "../replay/read-audit-log.js";
import { replayAuditLog, type ReplayTally } from "../replay/replay-decisions.js";

/** `verigate replay --config NEW --log AUDIT.log`. */
export interface ReplayOptions {
  readonly config: string;
  readonly log: string;
}

/** Where the report and the errors go (the console, unless a test captures them). */
export interface ReplayOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const CONSOLE: ReplayOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function cannotReadLog(file: string, error: unknown): string {
  return `cannot read audit log "${file}" (${errorCode(error) ?? "unreadable"})`;
}

/**
 * Re-decides every recorded decision of an audit log against a new config and
 * prints the decisions that flip, by direction, route and reason (see
 * src/replay/format-replay.ts). Exit 0, flips or not; 1 when the config does not
 * compile (`path: problem` lines) or the log cannot be read.
 */
export async function runReplay(
  options: ReplayOptions,
  output: ReplayOutput = CONSOLE,
): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await open(options.log, "r");
  } catch (error: unknown) {
    output.err(cannotReadLog(options.log, error));
    return 1;
  }
  let snapshot: Snapshot | undefined;
  try {
    try {
      snapshot = await loadSnapshot(options.config);
    } catch (error: unknown) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) output.err(formatProblem(problem));
      return 1;
    }
    const entries = readAuditLog(handle.createReadStream({ autoClose: false }));
    let tally: ReplayTally;
    try {
      tally = await replayAuditLog(snapshot, entries);
    } catch (error: unknown) {
      // A read error mid-way (a directory, an I/O error): no report from half a log.
      if (errorCode(error) === undefined) throw error;
      output.err(cannotReadLog(options.log, error));
      return 1;
    }
    const subject = { log: options.log, config: options.config, revision: snapshot.revision };
    for (const line of formatReplay(subject, tally, findRawClaimsRoutes(snapshot.routes)))
      output.out(line);
    return 0;
  } finally {
    await handle.close();
    // The snapshot's upstream agents would keep the process alive.
    for (const route of snapshot?.routes ?? []) route.upstream.agent.destroy();
  }
}
