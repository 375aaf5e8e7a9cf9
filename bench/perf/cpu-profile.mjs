// Reads the .cpuprofile a `node --cpu-prof` process wrote and names where the busy time went:
// the functions with the most self time (samples where the function itself was running), and
// the same samples summed by area (a dist/ folder of verigate, a package, a node: module).
// Idle samples are left out. The profile covers the process's start, warm-up and window.
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

const TOP = 15;
const TOP_AREAS = 12;

function pathOf(url) {
  return url.startsWith("file://") ? relative(process.cwd(), new URL(url).pathname) : url;
}

function nameOf(frame) {
  const fn = frame.functionName === "" ? "(anonymous)" : frame.functionName;
  if (frame.url === "") return fn;
  return `${fn} ${pathOf(frame.url)}:${frame.lineNumber + 1}`;
}

/** dist/audit, node_modules/pino, node:_tls_wrap, (garbage collector), (native) ... */
function areaOf(frame) {
  if (frame.url === "")
    return frame.functionName.startsWith("(") ? frame.functionName : "(native, called from JS)";
  const path = pathOf(frame.url);
  const packaged = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (packaged !== null) return `node_modules/${packaged[1]}`;
  if (path.startsWith("dist/")) return path.split("/").slice(0, 2).join("/").replace(/\.js$/, "");
  if (path.startsWith("node:internal/")) return path.split("/").slice(0, 3).join("/");
  return path;
}

function topTable(counts, total, limit, heading) {
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit);
  const lines = [`| % of busy samples | ${heading} |`, "| --- | --- |"];
  for (const [name, hits] of top)
    lines.push(`| ${((hits * 100) / total).toFixed(1)} | \`${name}\` |`);
  return lines.join("\n");
}

/** The top self-time functions and areas of the first profile in `dir`, as Markdown. */
export async function summarizeCpuProfile(dir) {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return "(no profile was written)";
  const profile = JSON.parse(await readFile(join(dir, files[0]), "utf8"));
  const byFunction = new Map();
  const byArea = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    // Idle samples say the process waited (for the load generator): not part of its cost.
    if (node.callFrame.functionName === "(idle)") continue;
    const hits = node.hitCount ?? 0;
    total += hits;
    const name = nameOf(node.callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const area = areaOf(node.callFrame);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  return [
    topTable(byFunction, total, TOP, "function (self time)"),
    "",
    topTable(byArea, total, TOP_AREAS, "area (self time summed)"),
  ].join("\n");
}
