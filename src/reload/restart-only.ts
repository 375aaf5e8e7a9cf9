import type { ConfigProblem } from "../config/config-problem.js";
import type { Snapshot } from "../config/snapshot.js";

/**
 * Settings a running process holds outside the snapshot: its listening sockets,
 * its TLS handshake and header parser limits, its nonce store, its assertion
 * signing keys and its forwarding engine. A reload that changes one is rejected
 * whole, naming each, rather than applied in part: what the file says and what
 * runs must not differ.
 */
const RESTART_ONLY: ReadonlyArray<readonly [string, (snapshot: Snapshot) => unknown]> = [
  ["listen", (s) => `${s.listen.address}:${s.listen.port}`],
  ["admin", (s) => `${s.admin.address}:${s.admin.port}`],
  ["limits.handshakeTimeout", (s) => s.limits.handshakeTimeout],
  ["limits.maxHeaderBytes", (s) => s.limits.maxHeaderBytes],
  ["limits.nonceTtl", (s) => s.limits.nonceTtl],
  ["assertion.key", (s) => s.assertion.keyPem],
  ["assertion.rotateEvery", (s) => s.assertion.rotateEveryMs],
  ["proxy.engine", (s) => s.proxy.engine],
  ["state", (s) => JSON.stringify(s.state)],
  ["workers", (s) => s.workers],
];

/** One `path: problem` per restart-only setting that differs between the two snapshots. */
export function restartOnlyChanges(current: Snapshot, next: Snapshot): ConfigProblem[] {
  return RESTART_ONLY.filter(([, read]) => read(current) !== read(next)).map(([path]) => ({
    path,
    message: "changed, and a reload cannot apply it: restart verigate to apply it",
  }));
}

/** Whether the listener's TLS settings differ (a new secure context is needed). */
export function tlsSettingsChanged(current: Snapshot, next: Snapshot): boolean {
  const a = current.tls;
  const b = next.tls;
  return (
    a.cert !== b.cert ||
    a.key !== b.key ||
    a.clientCAs !== b.clientCAs ||
    a.crl !== b.crl ||
    a.minVersion !== b.minVersion
  );
}
