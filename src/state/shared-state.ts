import type { Logger } from "../audit/logger.js";
import { createMemoryNonceStore, type NonceStore } from "../claims/nonces/nonce-store.js";
import { createRedisNonceStore } from "../claims/nonces/redis-nonce-store.js";
import type { StateDocument } from "../config/schema.js";
import { connectRedis, waitUntilReady } from "./redis-connection.js";
import { RevocationMirror } from "./revocation-list.js";

/** What a gateway keeps outside its snapshots: nonces and, with Redis, the revocation list. */
export interface SharedState {
  readonly nonces: NonceStore;
  /** Undefined with state memory: `verigate revoke` needs Redis. */
  readonly revocations: RevocationMirror | undefined;
  /** Connects (waiting at most a second: with Redis down, verigate starts and recovers later). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The state `state:` names: process memory, or Redis shared by every worker and replica. */
export function createSharedState(
  state: StateDocument,
  options: { readonly nonceTtlMs: number; readonly now: () => number; readonly logger: Logger },
): SharedState {
  if (state === "memory") {
    const nonces = createMemoryNonceStore({ ttlMs: options.nonceTtlMs, now: options.now });
    return {
      nonces,
      revocations: undefined,
      start: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const { url, keyPrefix, revocationMaxAge } = state.redis;
  const client = connectRedis({ url, keyPrefix }, options.logger);
  const revocations = new RevocationMirror({
    client,
    keyPrefix,
    maxAgeMs: revocationMaxAge,
    now: options.now,
  });
  return {
    nonces: createRedisNonceStore({
      client,
      keyPrefix,
      ttlMs: options.nonceTtlMs,
      now: options.now,
    }),
    revocations,
    async start() {
      await waitUntilReady(client, 1_000);
      await revocations.start();
    },
    async close() {
      revocations.close();
      client.disconnect();
      return Promise.resolve();
    },
  };
}
