import { createLogger, type Logger } from "../audit/logger.js";
import { GatewayMetrics } from "../audit/metrics.js";
import { loadSnapshot } from "../config/compile-config.js";
import { ConfigError, formatProblem } from "../config/config-problem.js";
import { startReloader } from "../reload/reloader.js";
import { createGateway, type Gateway } from "../server.js";

/** Resolves once SIGTERM or SIGINT arrives. */
function untilStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}

/** Starts a gateway from a config file; prints the problems and returns undefined when it does not compile. */
export async function startFromConfig(file: string, logger: Logger): Promise<Gateway | undefined> {
  try {
    // The metrics exist first: the snapshot's token verifier reports to them.
    const metrics = new GatewayMetrics();
    const snapshot = await loadSnapshot(file, { telemetry: metrics });
    const gateway = createGateway(snapshot, logger, { metrics });
    await gateway.listen();
    return gateway;
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(formatProblem(problem));
    console.error(`${file}: ${error.problems.length} problem(s); not started`);
    return undefined;
  }
}

/** Reloads on SIGHUP and on file changes; drains and stops on SIGTERM or SIGINT. */
export async function serveUntilStopped(gateway: Gateway, logger: Logger): Promise<number> {
  const reloader = startReloader(gateway, logger);
  const onHangup = (): void => void reloader.reload("SIGHUP");
  process.on("SIGHUP", onHangup);
  const signal = await untilStopSignal();
  console.error(`verigate: ${signal}: draining`);
  process.off("SIGHUP", onHangup);
  process.on("SIGHUP", () => undefined); // while draining, SIGHUP must not kill (its default)
  reloader.close();
  await gateway.close();
  return 0;
}

/** `verigate serve --config FILE`. */
export async function runServe(file: string): Promise<number> {
  const logger = createLogger();
  const gateway = await startFromConfig(file, logger);
  return gateway === undefined ? 1 : serveUntilStopped(gateway, logger);
}
