/**
 * Redis (state.redis) did not answer in time. What needs it fails closed with the
 * reason `shared-state-unavailable` (503); what does not keeps working.
 */
export class SharedStateUnavailableError extends Error {
  readonly code = "shared-state-unavailable" as const;

  constructor(operation: string, cause: unknown) {
    super(
      `shared state unavailable (${operation}): ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = "SharedStateUnavailableError";
  }
}

/** Whether an error is a shared-state outage (as opposed to a bug). */
export function isSharedStateUnavailable(error: unknown): error is SharedStateUnavailableError {
  return error instanceof SharedStateUnavailableError;
}
