/** One thing wrong with a configuration, reported as `path: message`. */
export interface ConfigProblem {
  /** Where, in the config's own terms: `routes[2].policy.allow[0]`. Empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** Formats a problem the way `verigate check` prints it. */
export function formatProblem(problem: ConfigProblem): string {
  return problem.path === "" ? problem.message : `${problem.path}: ${problem.message}`;
}

/** Thrown by config loading when the file cannot be used; carries every problem found. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}
