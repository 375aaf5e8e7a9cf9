import { ConfigError, formatProblem } from "../config/config-problem.js";
import { loadConfigDocument } from "../config/load-config.js";
import { connectRedis, redactUrl, waitUntilReady } from "../state/redis-connection.js";
import { normalizeFingerprint, revokeFingerprint } from "../state/revocation-list.js";

/** Where `verigate revoke` looks for the config without --config (the container image's path). */
export const DEFAULT_CONFIG = "/etc/verigate/verigate.yaml";

/**
 * `verigate revoke --fingerprint HEX [--config FILE]`: adds a client certificate's
 * SHA-256 fingerprint (`identity.certFingerprint`) to the revocation list in the
 * config's state.redis. Every verigate using that Redis refuses the certificate
 * within about a second (401 client-certificate-revoked). Only the config's shape
 * is read: the operator needs no access to the TLS keys.
 */
export async function runRevoke(fingerprintText: string, file = DEFAULT_CONFIG): Promise<number> {
  const fingerprint = normalizeFingerprint(fingerprintText);
  if (fingerprint === undefined) {
    console.error(
      "verigate revoke: --fingerprint must be a SHA-256 fingerprint: 64 hex digits (identity.certFingerprint)",
    );
    return 1;
  }
  let state;
  try {
    state = (await loadConfigDocument(file)).config.state;
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(formatProblem(problem));
    return 1;
  }
  if (state === "memory") {
    console.error(
      `${file}: state is memory: a revocation list needs state.redis, shared by every verigate (nothing revoked)`,
    );
    return 1;
  }
  const { url, keyPrefix } = state.redis;
  const client = connectRedis({ url, keyPrefix });
  client.on("error", () => undefined); // reported below, once
  try {
    await waitUntilReady(client, 2_000);
    await revokeFingerprint(client, keyPrefix, fingerprint);
  } catch (error: unknown) {
    console.error(
      `verigate revoke: ${redactUrl(url)} did not answer (${(error as Error).message}); nothing revoked`,
    );
    return 1;
  } finally {
    client.disconnect();
  }
  console.log(
    `revoked ${fingerprint} in ${redactUrl(url)}; every verigate using it refuses the certificate within about a second`,
  );
  return 0;
}
