// The soak's config file and what it does to it while the load runs: every few seconds a
// different valid version (a reload that applies), now and then an invalid one for a moment
// (a reload verigate must reject while it keeps serving), and SIGHUP now and then.
import { rename, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

// Two valid versions differ only in a name no client has: alice stays allowed, bob denied.
const EXTRA_NAMES = ["alice", "dave"];

/** The config text: loopback, ports chosen by the kernel, a short upstream timeout. */
export function renderConfig({ upstreamPort, version, listenPort = 0, missingCa = false }) {
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  return `# written by bench/soak.mjs
listen: { address: 127.0.0.1, port: ${listenPort} }
admin: { address: 127.0.0.1, port: 0 }
tls:
  cert: pki/server.pem
  key: pki/server-key.pem
  clientCAs: pki/${missingCa ? "missing-ca.pem" : "ca.pem"}
  crl: pki/clients.crl
limits:
  upstreamTimeout: 1s
  headersTimeout: 5s
  requestTimeout: 10s
  idleTimeout: 10s
reload: { watch: true, debounce: 100ms }
routes:
  - name: soak-app
    match: { pathPrefix: /app/ }
    upstream: ${upstream}
    policy:
      allow:
        - identity.commonName: { in: [alice, ${EXTRA_NAMES[version % EXTRA_NAMES.length]}] }
  - name: soak-faults
    match: { pathPrefix: /fault/ }
    upstream: ${upstream}
    policy:
      allow:
        - identity.commonName: alice
`;
}

/** Invalid versions, each refused for a different reason (schema, YAML, restart-only, a missing file). */
const INVALID_VERSIONS = [
  (upstreamPort) =>
    renderConfig({ upstreamPort, version: 0 }).replace(
      "identity.commonName: alice",
      "identity.commonNam: alice",
    ),
  (upstreamPort) => `${renderConfig({ upstreamPort, version: 0 })}routes: [\n`,
  (upstreamPort) => renderConfig({ upstreamPort, version: 0, listenPort: 1 }),
  (upstreamPort) => renderConfig({ upstreamPort, version: 0, missingCa: true }),
];

/** Replaces the file in one step (write aside, rename over): a reload never reads half a file. */
export async function writeConfigFile(file, text) {
  const aside = `${file}.next`;
  await writeFile(aside, text);
  await rename(aside, file);
}

/**
 * Rewrites `file` every `everyMs`; every `invalidEvery`-th time an invalid version stays
 * `invalidForMs` before a valid one replaces it. Sends SIGHUP to `child` every `sighupEveryMs`.
 * `stop()` ends with a valid version in place.
 */
export function startConfigReloads({
  file,
  upstreamPort,
  child,
  everyMs = 5_000,
  invalidEvery = 3,
  invalidForMs = 1_000,
  sighupEveryMs = 20_000,
}) {
  const stats = { validWrites: 0, invalidWrites: 0, sighups: 0, invalidWindows: [] };
  const stopping = new AbortController();
  let version = 0;
  const writeValid = async () => {
    version += 1;
    await writeConfigFile(file, renderConfig({ upstreamPort, version }));
    stats.validWrites += 1;
  };
  const loop = (async () => {
    for (let round = 1; ; round++) {
      try {
        await sleep(everyMs, undefined, { signal: stopping.signal });
      } catch {
        return;
      }
      if (round % invalidEvery === 0) {
        const invalid = INVALID_VERSIONS[stats.invalidWrites % INVALID_VERSIONS.length];
        const window = { from: Date.now(), to: Date.now() };
        await writeConfigFile(file, invalid(upstreamPort));
        stats.invalidWrites += 1;
        // Not cut short by stop(): the valid version below must follow.
        await sleep(invalidForMs);
        await writeValid();
        window.to = Date.now();
        stats.invalidWindows.push(window);
      } else {
        await writeValid();
      }
    }
  })();
  const hangups = setInterval(() => {
    if (child.exitCode === null && child.kill("SIGHUP")) stats.sighups += 1;
  }, sighupEveryMs);
  return {
    stats,
    async stop() {
      clearInterval(hangups);
      stopping.abort();
      await loop;
    },
  };
}
