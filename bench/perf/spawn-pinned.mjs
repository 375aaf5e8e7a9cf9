// Starts a benchmark process pinned to one CPU core with `taskset` (when it exists and the
// machine has that core), so that the proxy and the load generator do not share a core.
// taskset execs the command: the child's pid is the command's own.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";

const READY_TIMEOUT_MS = 15_000;

function hasTaskset() {
  try {
    execFileSync("taskset", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Whether processes are pinned: taskset exists and there are at least 2 cores. */
export const isPinning = hasTaskset() && availableParallelism() >= 2;

/** spawn(), through `taskset -c CORE` when pinning. */
export function spawnPinned(core, command, args, options = {}) {
  if (!isPinning) return spawn(command, args, options);
  return spawn("taskset", ["-c", String(core), command, ...args], options);
}

/** A Node script, pinned, with stdout piped (stderr inherited). */
export function spawnNodePinned(core, script, args) {
  return spawnPinned(core, process.execPath, [script, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/**
 * The first stdout line of `child`, parsed as JSON; throws if it exits first. A child silent
 * for `timeoutMs` is killed (and so throws).
 */
export async function readFirstJsonLine(child, what, timeoutMs = READY_TIMEOUT_MS) {
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const first = await Promise.race([
      once(lines, "line").then(([line]) => line),
      once(child, "exit").then(([code]) => {
        throw new Error(`${what} exited (${code}) before it was ready`);
      }),
    ]);
    return JSON.parse(first);
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
