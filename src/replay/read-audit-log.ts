/**
 * Streams an audit log line by line (node:readline), so that a large log is never
 * held in memory. Blank lines are skipped; every other line becomes an entry.
 *
 * @module
 */

import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { parseAuditLine, type AuditLogEntry } from "./parse-audit-line.js";

/**
 * The entries of an audit log, in order. A read error of `input` (EISDIR, EIO) is
 * thrown from the iteration; a line that does not parse is an `unreadable` entry.
 */
export async function* readAuditLog(input: Readable): AsyncGenerator<AuditLogEntry> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const text of lines) {
      lineNumber++;
      const entry = parseAuditLine(text, lineNumber);
      if (entry !== undefined) yield entry;
    }
  } finally {
    lines.close();
  }
}
