import { Writable } from "node:stream";

/** One parsed log line. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** Collects the gateway's log lines in memory, for assertions on audit lines. */
export class AuditCapture extends Writable {
  readonly lines: LogLine[] = [];
  #waiters: Array<() => void> = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    for (const text of chunk.toString().split("\n")) {
      if (text.trim() !== "") this.lines.push(JSON.parse(text) as LogLine);
    }
    for (const wake of this.#waiters.splice(0)) wake();
    done();
  }

  /** The audit (decision) lines so far. */
  decisions(): LogLine[] {
    return this.lines.filter((line) => line.msg === "decision");
  }

  /** Waits (up to 5 s) for the decision line of a request id. */
  async decisionFor(requestId: string): Promise<LogLine> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = this.decisions().find((line) => line.requestId === requestId);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no audit line for request ${requestId}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}
