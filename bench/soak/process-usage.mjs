// What a process holds, read from Linux /proc: resident memory (now and its high-water mark)
// and open file descriptors, by kind, so that a leak shows what leaks (sockets, pipes, files).
import { readdir, readFile, readlink } from "node:fs/promises";

const KIB_PER_MIB = 1024;

/** The kind of an fd, from its /proc link: socket, pipe, anon_inode:[eventpoll], or a file. */
function kindOfLink(link) {
  if (link.startsWith("socket:")) return "socket";
  if (link.startsWith("pipe:")) return "pipe";
  if (link.startsWith("anon_inode:")) return link.slice("anon_inode:".length);
  return "file";
}

function kibOf(status, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match === null ? Number.NaN : Number(match[1]);
}

/**
 * RSS and its peak (VmHWM) in MiB, and the open fds with a count by kind. Throws if the
 * process is gone (or /proc is missing: the soak runs on Linux only).
 */
export async function readProcessUsage(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const entries = await readdir(`/proc/${pid}/fd`);
  const fdKinds = {};
  for (const entry of entries) {
    // An fd can close between readdir and readlink: it is then not open, so not counted.
    const link = await readlink(`/proc/${pid}/fd/${entry}`).catch(() => undefined);
    if (link === undefined) continue;
    const kind = kindOfLink(link);
    fdKinds[kind] = (fdKinds[kind] ?? 0) + 1;
  }
  return {
    rssMiB: kibOf(status, "VmRSS") / KIB_PER_MIB,
    peakRssMiB: kibOf(status, "VmHWM") / KIB_PER_MIB,
    fds: Object.values(fdKinds).reduce((sum, count) => sum + count, 0),
    fdKinds,
  };
}
