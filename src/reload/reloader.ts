import type { Logger } from "../audit/logger.js";
import { loadSnapshot } from "../config/compile-config.js";
import { ConfigError, formatProblem, type ConfigProblem } from "../config/config-problem.js";
import type { Snapshot } from "../config/snapshot.js";
import type { Gateway } from "../server.js";
import { closeUpstreamConnections } from "./snapshot-leases.js";
import { watchFiles, type FileWatch } from "./watch-files.js";

export interface ReloadOutcome {
  /** `unchanged`: the config and its files hash to the revision in force. */
  readonly result: "applied" | "unchanged" | "rejected";
  /** The revision in force afterwards. */
  readonly revision: string;
  readonly problems: readonly ConfigProblem[];
}

export interface Reloader {
  /** Reloads the config file in force; never throws. Calls during a reload make one more after it. */
  reload(trigger: string): Promise<ReloadOutcome>;
  /** Stops watching files. */
  close(): void;
}

/**
 * Hot reload: compiles the config file again, whole, and puts it in force only if
 * every part of it compiled; otherwise logs its `path: problem` lines and the
 * snapshot in force keeps serving. Watches the config and every file it names when
 * `reload.watch` is on (SIGHUP is wired by `verigate serve`).
 */
export function startReloader(
  gateway: Gateway,
  logger: Logger,
  options: {
    readonly now?: () => number;
    /** Told every outcome (a cluster worker reports its revision to the primary). */
    readonly onOutcome?: (outcome: ReloadOutcome) => void;
  } = {},
): Reloader {
  const now = options.now ?? Date.now;
  let watching: FileWatch | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let queued: Promise<ReloadOutcome> | undefined;

  function rewatch(snapshot: Snapshot): void {
    watching?.close();
    watching = undefined;
    if (!snapshot.reload.watch) return;
    watching = watchFiles(
      snapshot.files,
      snapshot.reload.debounce,
      () => void reloader.reload("file change"),
      (folder, error) =>
        logger.warn({ folder, err: error }, "cannot watch config files here; SIGHUP still reloads"),
    );
  }

  function rejected(trigger: string, problems: readonly ConfigProblem[]): ReloadOutcome {
    const revision = gateway.snapshot.revision;
    logger.error(
      { trigger, revision, problems: problems.map(formatProblem) },
      "config rejected; the config in force keeps serving",
    );
    gateway.metrics.reloads.inc({ result: "rejected" });
    return { result: "rejected", revision, problems };
  }

  async function reloadOnce(trigger: string): Promise<ReloadOutcome> {
    const previous = gateway.snapshot;
    let next: Snapshot;
    try {
      next = await loadSnapshot(previous.file, {
        now: new Date(now()),
        telemetry: gateway.metrics,
      });
    } catch (error: unknown) {
      if (error instanceof ConfigError) return rejected(trigger, error.problems);
      logger.error({ err: error }, "reload failed unexpectedly");
      return rejected(trigger, [{ path: "", message: `reload failed: ${String(error)}` }]);
    }
    if (next.revision === previous.revision) {
      closeUpstreamConnections(next);
      gateway.metrics.reloads.inc({ result: "unchanged" });
      logger.info({ trigger, revision: previous.revision }, "config unchanged");
      return { result: "unchanged", revision: previous.revision, problems: [] };
    }
    const problems = gateway.apply(next);
    if (problems.length > 0) {
      closeUpstreamConnections(next);
      return rejected(trigger, problems);
    }
    gateway.metrics.reloads.inc({ result: "applied" });
    logger.info(
      { trigger, revision: next.revision, previous: previous.revision, routes: next.routes.length },
      "config reloaded",
    );
    rewatch(next);
    return { result: "applied", revision: next.revision, problems: [] };
  }

  const reloader: Reloader = {
    reload(trigger) {
      // A reload not yet started reads the files as they are when it starts: one is enough.
      if (queued !== undefined) return queued;
      const next = chain.then(async () => {
        queued = undefined;
        const outcome = await reloadOnce(trigger);
        options.onOutcome?.(outcome);
        return outcome;
      });
      queued = next;
      chain = next;
      return next;
    },
    close() {
      watching?.close();
      watching = undefined;
    },
  };
  rewatch(gateway.snapshot);
  return reloader;
}
