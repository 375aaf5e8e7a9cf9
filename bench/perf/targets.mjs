// The benchmark's targets and how each starts, pinned to the proxy's core: the upstream alone
// (the ceiling, plain HTTP), the bare http-proxy-3, nginx (when found or installed), and
// verigate's identity-only and FULL routes (one `verigate serve` per target, same config).
// Each start() resolves with { pids (whose CPU counts), port, stop(), isPlain? }.
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNginx } from "./nginx-target.mjs";
import { readFirstJsonLine, spawnNodePinned, stopChild } from "./spawn-pinned.mjs";
import { mintFullRouteHeaders, startVerigate } from "./verigate-target.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

async function findFreePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startNodeTarget(core, script, args, what) {
  const child = spawnNodePinned(core, join(HERE, script), args);
  const { port } = await readFirstJsonLine(child, what);
  return { pids: [child.pid], port, stop: () => stopChild(child) };
}

/** The targets, each with how to start it; nginx only when found or installed. */
export function defineTargets({ dir, pki, upstreamPort, nginx, core }) {
  const configFile = join(dir, "verigate.yaml");
  const verigate = (name, pathPrefix, headers) => ({
    name,
    pathPrefix,
    headers,
    start: async (extraNodeArgs = []) => {
      const started = await startVerigate({
        main: MAIN,
        configFile,
        logFile: join(dir, `${name}.log`),
        core,
        extraNodeArgs,
      });
      return { pids: [started.pid], port: started.port, stop: started.stop };
    },
  });
  const targets = [
    {
      name: "direct-upstream",
      pathPrefix: "/",
      headers: () => ({}),
      start: async () => ({
        ...(await startNodeTarget(core, "upstream.mjs", [], "the direct upstream")),
        isPlain: true,
      }),
    },
    {
      name: "bare-http-proxy-3",
      pathPrefix: "/",
      headers: () => ({}),
      start: () =>
        startNodeTarget(
          core,
          "bare-proxy.mjs",
          [
            ...["--upstream", String(upstreamPort), "--cert", pki.server.cert],
            ...["--key", pki.server.key, "--ca", pki.ca],
          ],
          "the bare proxy",
        ),
    },
    {
      name: "bare-undici",
      pathPrefix: "/",
      headers: () => ({}),
      start: () =>
        startNodeTarget(
          core,
          "bare-undici.mjs",
          [
            ...["--upstream", String(upstreamPort), "--cert", pki.server.cert],
            ...["--key", pki.server.key, "--ca", pki.ca],
          ],
          "the bare undici proxy",
        ),
    },
  ];
  if (nginx.path !== undefined) {
    targets.push({
      name: "nginx",
      pathPrefix: "/",
      headers: () => ({}),
      start: async () => {
        const port = await findFreePort();
        const started = await startNginx({
          binary: nginx.path,
          dir: join(dir, "nginx"),
          port,
          upstreamPort,
          pki,
          core,
        });
        return { ...started, port };
      },
    });
  }
  targets.push(
    verigate("verigate-identity", "/id/", () => ({})),
    verigate("verigate-full", "/full/", () => mintFullRouteHeaders(pki)),
  );
  return { targets, configFile };
}
