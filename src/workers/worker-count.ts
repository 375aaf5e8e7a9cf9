import { availableParallelism } from "node:os";

/** `workers: auto` is one per core the process may use. */
export function resolveWorkerCount(workers: number | "auto"): number {
  return workers === "auto" ? availableParallelism() : workers;
}
