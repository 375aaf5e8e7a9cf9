/** What a worker tells the primary, and the primary a worker, over the cluster's IPC channel. */
export type WorkerReport =
  | { readonly type: "verigate:listening"; readonly port: number; readonly revision: string }
  | { readonly type: "verigate:revision"; readonly revision: string };

/** The primary asks a worker to drain and exit (SIGTERM to the primary). */
export const DRAIN = { type: "verigate:drain" } as const;

export function isWorkerReport(message: unknown): message is WorkerReport {
  const type = (message as { type?: unknown } | null)?.type;
  return type === "verigate:listening" || type === "verigate:revision";
}

export function isDrainRequest(message: unknown): boolean {
  return (message as { type?: unknown } | null)?.type === DRAIN.type;
}
