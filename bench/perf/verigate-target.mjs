// verigate as a benchmark target: its config (an identity-only route and a FULL route:
// certificate identity + a posture token + a bound attestation token, a 10-criterion rule; the
// signed upstream assertion is always on), the two tokens, and `verigate serve` started pinned
// with its audit log (stdout) going straight to a file, as in production, not through a pipe
// the benchmark would have to read. (bench/soak/verigate-child.mjs parses every line, which
// would put the audit log's cost on the load generator's core.)
import { openSync, closeSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { importPKCS8, SignJWT } from "jose";
import { mintDevAttestationToken } from "../../dist/dev-pki/dev-attestation-service.js";
import { DEV_MEASUREMENT } from "../../dist/dev-pki/dev-measurement.js";
import { spawnPinned, stopChild } from "./spawn-pinned.mjs";

const POSTURE_ISSUER = "https://posture.verigate.test";
const KEY_ID = "verigate-dev-attestation-1"; // the dev attestation service's kid

/**
 * The config. No CRL (the bare proxy and nginx have none either); requests per connection
 * unbounded like theirs, so that reused connections stay reused.
 */
export function renderVerigateConfig({ upstreamPort }) {
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  return `# written by bench/run.mjs
listen: { address: 127.0.0.1, port: 0 }
admin: { address: 127.0.0.1, port: 0 }
tls:
  cert: pki/server.pem
  key: pki/server-key.pem
  clientCAs: pki/ca.pem
limits:
  maxRequestsPerConnection: 100000000
reload: { watch: false }
issuers:
  - name: posture-service
    kind: posture
    issuer: ${POSTURE_ISSUER}
    audience: verigate
    jwks: { file: pki/attestation-service.jwks.json }
    algorithms: [ES256]
    maxAge: 24h
  - name: attestation-service
    kind: attestation
    profile: azure-maa
    issuer: https://attestation.verigate.test
    audience: verigate
    jwks: { file: pki/attestation-service.jwks.json }
    algorithms: [ES256]
    bindToClientCert: true
    maxAge: 24h
measurements:
  bench-v1: ["${DEV_MEASUREMENT}"]
routes:
  - name: bench-identity
    match: { host: localhost, pathPrefix: /id/ }
    upstream: ${upstream}
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://verigate.test/user/" }
  - name: bench-full
    match: { host: localhost, pathPrefix: /full/ }
    upstream: ${upstream}
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://verigate.test/user/" }
          request.method: { in: [GET, HEAD] }
          device.managed: true
          device.diskEncrypted: true
          device.osVersion: { gte: "6.0" }
          tee.platform: { in: [sev-snp, tdx] }
          tee.measurement: { inList: bench-v1 }
          tee.debug: false
          tee.age: { lt: 1h }
          tee.boundToClientCert: true
`;
}

/** The headers of a FULL-route request: a posture token and a bound attestation token, fresh. */
export async function mintFullRouteHeaders(pki) {
  const keyPem = await readFile(pki.attestationService.key, "utf8");
  const clientCertPem = await readFile(pki.clients.alice.cert, "utf8");
  const now = Math.floor(Date.now() / 1000);
  const posture = await new SignJWT({
    managed: true,
    compliant: true,
    diskEncrypted: true,
    os: "linux",
    osVersion: "6.8.0",
  })
    .setProtectedHeader({ alg: "ES256", kid: KEY_ID, typ: "JWT" })
    .setIssuer(POSTURE_ISSUER)
    .setAudience("verigate")
    .setSubject("bench-device-1")
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(await importPKCS8(keyPem, "ES256"));
  const attestation = await mintDevAttestationToken({
    keyPem,
    clientCertPem,
    lifetimeSeconds: 3600,
  });
  return { "x-posture-token": posture, "x-attestation-token": attestation };
}

/** Starts `node dist/cli/main.js serve --config FILE` pinned; resolves with { pid, port, stop }. */
export async function startVerigate({ main, configFile, logFile, core, extraNodeArgs = [] }) {
  const out = openSync(logFile, "w");
  const child = spawnPinned(
    core,
    process.execPath,
    [...extraNodeArgs, main, "serve", "--config", configFile],
    { stdio: ["ignore", out, "inherit"] },
  );
  closeSync(out);
  for (let i = 0; i < 300; i++) {
    await sleep(50);
    if (child.exitCode !== null) throw new Error(`verigate exited (${child.exitCode}): ${logFile}`);
    const listening = readListeningLine(logFile);
    if (listening !== undefined) {
      return { pid: child.pid, port: listening.port, stop: () => stopChild(child) };
    }
  }
  await stopChild(child);
  throw new Error(`verigate did not start: ${logFile}`);
}

function readListeningLine(logFile) {
  const text = readFileSync(logFile, "utf8");
  for (const line of text.split("\n")) {
    if (!line.includes('"verigate listening"')) continue;
    return JSON.parse(line);
  }
  return undefined;
}
