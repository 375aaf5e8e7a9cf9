import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

/** Lines are written once this many characters wait... */
const BATCH_CHARACTERS = 8192;
/** ...or this many milliseconds after the first one, whichever comes first. */
const BATCH_MS = 100;

/**
 * Standard output, written in batches: one write per request was about a tenth of a
 * forwarded request's CPU. A line waits at most 100 ms; pino flushes what waits when
 * the process exits (a crash included), so only a SIGKILL can lose that much.
 */
function stdoutInBatches(): DestinationStream {
  return pino.destination({
    dest: 1,
    sync: false,
    minLength: BATCH_CHARACTERS,
    periodicFlush: BATCH_MS,
  });
}

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
    options.destination ?? stdoutInBatches(),
  );
}
