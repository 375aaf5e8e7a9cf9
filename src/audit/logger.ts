import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

/**
 * The process logger: JSON lines, ISO times, level names. Audit lines and
 * operational messages share it; audit lines carry `msg: "decision"`.
 * Secrets never reach it: nothing logs headers, tokens or keys, and the paths
 * below are censored as a second line of defence.
 */
export function createLogger(
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["*.authorization", "*.cookie", "*.key", "*.token", "headers"],
        censor: "[redacted]",
      },
    },
    // Asynchronous: lines that come while a write is under way go out with the next one.
    // (A minLength buffer measured slower per line: bench/analysis.md.) pino writes what
    // waits when the process exits, a crash included.
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
