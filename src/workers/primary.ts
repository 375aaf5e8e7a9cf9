import cluster, { type Worker } from "node:cluster";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { AggregatorRegistry } from "prom-client";
import { createAdminServer } from "../admin/admin-server.js";
import type { Logger } from "../audit/logger.js";
import type { Snapshot } from "../config/snapshot.js";
import { DRAIN, isWorkerReport } from "./worker-messages.js";

/** A worker that dies sooner than this after its start is restarted after a pause (no fork storm). */
const QUICK_DEATH_MS = 5_000;
const RESTART_PAUSE_MS = 1_000;
/** Past drain (10 s) and close: a worker still running this long after SIGTERM is killed. */
const STOP_DEADLINE_MS = 15_000;

/**
 * The cluster primary of `verigate serve` with `workers` > 1. It serves no proxy
 * traffic: it forks the workers (each runs the whole gateway; node:cluster shares
 * the listening socket), restarts one that dies, forwards SIGHUP (each worker
 * reloads its config, and rejects it alone if it does not compile), and on
 * SIGTERM/SIGINT asks each to drain and returns 0 when all have exited. It serves
 * the admin listener: /metrics sums the workers' metrics (prom-client's
 * AggregatorRegistry), /readyz is ready when every worker listens.
 */
export async function runPrimary(
  snapshot: Snapshot,
  count: number,
  logger: Logger,
  stopSignal: Promise<string>,
): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const revisions = new Map<number, string>();
  const startedAt = new Map<number, number>();
  let stopping = false;
  let announced = false;
  let port = 0;

  function fork(): void {
    if (stopping) return;
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  }
  const workers = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const isReady = (): boolean => !stopping && revisions.size === count;

  const admin = createAdminServer({
    isReady,
    // During a reload the workers may briefly differ: all their revisions are listed.
    revision: () => [...new Set(revisions.values())].join(","),
    metrics: async () => ({
      contentType: aggregator.contentType,
      body: await aggregator.clusterMetrics(),
    }),
  });
  admin.listen(snapshot.admin.port, snapshot.admin.address);
  await once(admin, "listening");
  const adminPort = (admin.address() as AddressInfo).port;

  cluster.on("message", (worker: Worker, message: unknown) => {
    if (!isWorkerReport(message)) return;
    revisions.set(worker.id, message.revision);
    if (message.type === "verigate:listening") port = message.port;
    if (!announced && isReady()) {
      announced = true;
      logger.info(
        { port, adminPort, workers: count, revision: message.revision },
        "verigate workers listening",
      );
    }
  });
  cluster.on("exit", (worker: Worker, code: number | null, signal: string | null) => {
    revisions.delete(worker.id);
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) return;
    logger.error(
      { worker: worker.id, code, signal, livedMs: lived },
      "worker exited unexpectedly; starting another",
    );
    setTimeout(fork, lived < QUICK_DEATH_MS ? RESTART_PAUSE_MS : 0);
  });

  const onHangup = (): void => {
    for (const worker of workers()) worker.process.kill("SIGHUP");
  };
  process.on("SIGHUP", onHangup);
  for (let i = 0; i < count; i++) fork();

  const signal = await stopSignal;
  stopping = true;
  logger.info({ signal, workers: workers().length }, "stopping: draining the workers");
  process.off("SIGHUP", onHangup);
  process.on("SIGHUP", () => undefined); // while draining, SIGHUP must not kill (its default)
  const running = workers();
  const exited = Promise.all(running.map((worker) => once(worker, "exit")));
  for (const worker of running) {
    if (worker.isConnected()) worker.send(DRAIN);
  }
  const deadline = setTimeout(() => {
    for (const worker of workers()) worker.process.kill("SIGKILL");
  }, STOP_DEADLINE_MS);
  await exited;
  clearTimeout(deadline);
  await new Promise<void>((resolve) => admin.close(() => resolve()));
  return 0;
}
