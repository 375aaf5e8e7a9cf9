import { createLogger } from "../audit/logger.js";
import { loadSnapshot } from "../config/compile-config.js";
import { ConfigError, formatProblem } from "../config/config-problem.js";
import { createGateway, type Gateway } from "../server.js";

/** Resolves once SIGTERM or SIGINT arrives. */
function untilStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}

/** Starts a gateway from a config file; prints the problems and returns undefined when it does not compile. */
export async function startFromConfig(file: string): Promise<Gateway | undefined> {
  try {
    const snapshot = await loadSnapshot(file);
    const gateway = createGateway(snapshot, createLogger());
    await gateway.listen();
    return gateway;
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(formatProblem(problem));
    console.error(`${file}: ${error.problems.length} problem(s); not started`);
    return undefined;
  }
}

/** Drains and stops a gateway when asked to. */
export async function serveUntilStopped(gateway: Gateway): Promise<number> {
  // Reloading arrives with hot reload; until then SIGHUP must not kill the process (its default).
  process.on("SIGHUP", () =>
    console.error("verigate: SIGHUP ignored: reload is not supported yet"),
  );
  const signal = await untilStopSignal();
  console.error(`verigate: ${signal}: draining`);
  await gateway.close();
  return 0;
}

/** `verigate serve --config FILE`. */
export async function runServe(file: string): Promise<number> {
  const gateway = await startFromConfig(file);
  return gateway === undefined ? 1 : serveUntilStopped(gateway);
}
