import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** `verigate serve` as a user runs it: the built binary in a child process. */
export interface VerigateProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every JSON line it has logged so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** Waits (up to 10 s) for a logged line with this `msg`, after the first `skip` such lines. */
  waitFor(msg: string, skip?: number): Promise<Record<string, unknown>>;
}

/** Starts `verigate serve --config FILE` (npm test builds dist/ first) and waits until it listens. */
export async function startVerigateProcess(config: string): Promise<VerigateProcess> {
  const child = spawn(process.execPath, [MAIN, "serve", "--config", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Array<Record<string, unknown>> = [];
  const wakers = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of wakers) wake();
  });
  async function waitFor(msg: string, skip = 0): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = lines.filter((line) => line["msg"] === msg)[skip];
      if (found !== undefined) return found;
      if (child.exitCode !== null) throw new Error(`verigate exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`verigate never logged "${msg}"`);
      await new Promise<void>((resolve) => {
        wakers.add(resolve);
        setTimeout(() => {
          wakers.delete(resolve);
          resolve();
        }, 100);
      });
    }
  }
  const listening = await waitFor("verigate listening");
  return { child, port: Number(listening["port"]), lines, waitFor };
}
