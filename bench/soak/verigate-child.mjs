// `verigate serve` as a child process, as an operator runs it, with its stdout (JSON lines)
// read as it comes: audit lines tallied by decision and reason and remembered by request id,
// every other line counted by level and message. Everything it writes is also kept on disk.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";

const LISTEN_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 20_000; // verigate drains for up to 10 s
const STDERR_LINES_KEPT = 50;

function increment(map, key) {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** What the child logged, as the soak needs it. */
function createLogState() {
  return {
    /** requestId -> "allow" | "deny" (the first audit line of that id). */
    decisions: new Map(),
    duplicateAuditLines: 0,
    /** "decision reasons status route" -> count; reasons carry the parser's code for its refusals. */
    auditByReason: new Map(),
    /** "level: msg" (with the parser's code, for its refusals) -> count, for non-audit lines. */
    messages: new Map(),
    unparsableLines: 0,
    stderrTail: [],
  };
}

function takeLine(state, text) {
  let line;
  try {
    line = JSON.parse(text);
  } catch {
    state.unparsableLines += 1;
    return undefined;
  }
  if (line.msg === "decision") {
    if (state.decisions.has(line.requestId)) state.duplicateAuditLines += 1;
    else state.decisions.set(line.requestId, line.decision);
    let reasons = Array.isArray(line.reasons) ? line.reasons.join("+") : String(line.reasons);
    // Refusals by Node's HTTP parser (no request behind them): keep the parser's code apart.
    if (typeof line.detail === "string" && line.detail.startsWith("HTTP parser:"))
      reasons += ` (${line.detail})`;
    increment(state.auditByReason, `${line.decision}\t${reasons}\t${line.status}\t${line.route}`);
    return line;
  }
  const code = line.code === undefined ? "" : ` (${line.code})`;
  increment(state.messages, `${line.level}: ${line.msg}${code}`);
  return line;
}

/**
 * Starts `node MAIN serve --config FILE` and waits for its "verigate listening" line.
 * Its stdout and stderr are copied to `logFile` and `errFile`.
 */
export async function startVerigateChild({ main, configFile, logFile, errFile }) {
  const child = spawn(process.execPath, [main, "serve", "--config", configFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const state = createLogState();
  const exited = once(child, "exit").then(([code, signal]) => ({ code, signal }));
  let stopping = false;
  let crash;
  void exited.then((how) => {
    if (!stopping) crash = how;
  });
  let listening;
  const listened = new Promise((resolve) => (listening = resolve));
  child.stdout.pipe(createWriteStream(logFile));
  child.stderr.pipe(createWriteStream(errFile));
  createInterface({ input: child.stdout }).on("line", (text) => {
    const line = takeLine(state, text);
    if (line?.msg === "verigate listening") listening(line);
  });
  createInterface({ input: child.stderr }).on("line", (text) => {
    state.stderrTail.push(text);
    if (state.stderrTail.length > STDERR_LINES_KEPT) state.stderrTail.shift();
  });
  // Both stdout streams must be read to their end before the tallies are final.
  const stdoutClosed = once(child.stdout, "close");
  const first = await Promise.race([
    listened,
    exited.then((how) => ({ exitedEarly: how })),
    new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), LISTEN_TIMEOUT_MS)),
  ]);
  if (first.exitedEarly !== undefined || first.timedOut === true) {
    child.kill("SIGKILL");
    throw new Error(
      `verigate did not start (${JSON.stringify(first)}):\n${state.stderrTail.join("\n")}`,
    );
  }
  return {
    child,
    pid: child.pid,
    port: first.port,
    adminPort: first.adminPort,
    state,
    /** True while it runs and nobody asked it to stop. */
    isAlive: () => child.exitCode === null && child.signalCode === null,
    /** How it exited before `stop()` was called (a crash), or undefined. */
    crash: () => crash,
    /** SIGTERM, then waits for the exit (SIGKILL after STOP_TIMEOUT_MS: a hang). */
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const started = Date.now();
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      const how = await exited;
      clearTimeout(timer);
      await stdoutClosed;
      return { ...how, ms: Date.now() - started, hung: how.signal === "SIGKILL" };
    },
  };
}
