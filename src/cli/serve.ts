import cluster from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import { createLogger, type Logger } from "../audit/logger.js";
import { GatewayMetrics } from "../audit/metrics.js";
import { loadSnapshot } from "../config/compile-config.js";
import { ConfigError, formatProblem } from "../config/config-problem.js";
import type { Snapshot } from "../config/snapshot.js";
import { startReloader } from "../reload/reloader.js";
import { closeUpstreamConnections } from "../reload/snapshot-leases.js";
import { createGateway, type Gateway } from "../server.js";
import { runPrimary } from "../workers/primary.js";
import { resolveWorkerCount } from "../workers/worker-count.js";
import { isDrainRequest, type WorkerReport } from "../workers/worker-messages.js";

/** Resolves once SIGTERM or SIGINT arrives. */
function untilStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}

/** Loads a config; prints its problems and returns undefined when it does not compile. */
async function loadOrReport(file: string, metrics: GatewayMetrics): Promise<Snapshot | undefined> {
  try {
    return await loadSnapshot(file, { telemetry: metrics });
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(formatProblem(problem));
    console.error(`${file}: ${error.problems.length} problem(s); not started`);
    return undefined;
  }
}

/** Starts a gateway from a config file; prints the problems and returns undefined when it does not compile. */
export async function startFromConfig(file: string, logger: Logger): Promise<Gateway | undefined> {
  // The metrics exist first: the snapshot's token verifier reports to them.
  const metrics = new GatewayMetrics();
  const snapshot = await loadOrReport(file, metrics);
  if (snapshot === undefined) return undefined;
  const gateway = createGateway(snapshot, logger, { metrics });
  await gateway.listen();
  return gateway;
}

/** Reloads on SIGHUP and on file changes; drains and stops on SIGTERM or SIGINT (or `stop`). */
export async function serveUntilStopped(
  gateway: Gateway,
  logger: Logger,
  options: {
    readonly stop?: Promise<string>;
    readonly onRevision?: (revision: string) => void;
  } = {},
): Promise<number> {
  const reloader = startReloader(gateway, logger, {
    onOutcome: (outcome) => options.onRevision?.(outcome.revision),
  });
  const onHangup = (): void => void reloader.reload("SIGHUP");
  process.on("SIGHUP", onHangup);
  const signal = await (options.stop ?? untilStopSignal());
  console.error(`verigate: ${signal}: draining`);
  process.off("SIGHUP", onHangup);
  process.on("SIGHUP", () => undefined); // while draining, SIGHUP must not kill (its default)
  reloader.close();
  await gateway.close();
  return 0;
}

/**
 * A cluster worker: the whole gateway, minus the admin listener (the primary
 * serves it, summing the workers' metrics). Reports its revision to the primary;
 * drains when the primary asks (or on its own SIGTERM/SIGINT).
 */
async function runWorker(file: string, logger: Logger): Promise<number> {
  try {
    return await serveAsWorker(file, logger);
  } finally {
    // The IPC channel would keep the worker alive after it stopped serving (or failed to start).
    if (process.connected) process.disconnect();
  }
}

async function serveAsWorker(file: string, logger: Logger): Promise<number> {
  const report = (message: WorkerReport): void => {
    if (process.connected) process.send?.(message);
  };
  // Listening for the primary's drain request from the start: it may come while the worker starts.
  const stop = new Promise<string>((resolve) => {
    process.on("message", (message: unknown) => {
      if (isDrainRequest(message)) resolve("drain requested by the primary");
    });
    void untilStopSignal().then(resolve);
  });
  const workerLogger = logger.child({ worker: cluster.worker?.id, pid: process.pid });
  const metrics = new GatewayMetrics();
  // Answers the primary's metric requests from this gateway's registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
  const snapshot = await loadOrReport(file, metrics);
  if (snapshot === undefined) return 1;
  const gateway = createGateway(snapshot, workerLogger, { metrics, serveAdmin: false });
  const { port } = await gateway.listen();
  report({ type: "verigate:listening", port, revision: gateway.snapshot.revision });
  // A terminal's Ctrl-C reaches every worker too: once draining, the primary decides.
  void stop.then(() => {
    process.on("SIGINT", () => undefined);
    process.on("SIGTERM", () => undefined);
  });
  return serveUntilStopped(gateway, workerLogger, {
    stop,
    onRevision: (revision) => report({ type: "verigate:revision", revision }),
  });
}

/** `verigate serve --config FILE`: one process, or a primary and `workers` worker processes. */
export async function runServe(file: string): Promise<number> {
  const logger = createLogger();
  if (cluster.isWorker) return runWorker(file, logger);
  const metrics = new GatewayMetrics();
  const snapshot = await loadOrReport(file, metrics);
  if (snapshot === undefined) return 1;
  const count = resolveWorkerCount(snapshot.workers);
  if (count > 1) {
    // The primary only checked the config: the workers load it themselves.
    closeUpstreamConnections(snapshot);
    return runPrimary(snapshot, count, logger, untilStopSignal());
  }
  const gateway = createGateway(snapshot, logger, { metrics });
  await gateway.listen();
  return serveUntilStopped(gateway, logger);
}
