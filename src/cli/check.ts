import { loadSnapshot } from "../config/compile-config.js";
import { ConfigError, formatProblem } from "../config/config-problem.js";

/** `verigate check --config FILE`: 0 when the config compiles, 1 with one `path: problem` line each otherwise. */
export async function runCheck(file: string): Promise<number> {
  try {
    const snapshot = await loadSnapshot(file);
    for (const route of snapshot.routes) route.upstream.agent.destroy();
    console.log(
      `${file}: valid (revision ${snapshot.revision}, ${snapshot.routes.length} route(s))`,
    );
    return 0;
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(formatProblem(problem));
    console.error(`${file}: ${error.problems.length} problem(s)`);
    return 1;
  }
}
