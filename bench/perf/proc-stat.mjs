// CPU time and peak memory of processes, read from Linux /proc: utime + stime of a process
// (all its threads) in milliseconds, and its VmHWM. Used for the proxy's CPU per request.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function readClockTicks() {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}
const TICKS_PER_SECOND = readClockTicks();

/** utime + stime of `pid` in ms (fields 14 and 15 of /proc/PID/stat, after the comm). */
export function readCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm may hold spaces and parentheses: the fields start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The sum of readCpuMs over several pids (nginx: master and worker). */
export function readTotalCpuMs(pids) {
  return pids.reduce((sum, pid) => sum + readCpuMs(pid), 0);
}

/** VmHWM (peak resident memory) of `pid` in MiB, NaN if unreadable. */
export function readPeakRssMiB(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The direct children of `pid` (nginx's workers). */
export function readChildPids(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text === "" ? [] : text.split(" ").map(Number);
  } catch {
    return [];
  }
}
