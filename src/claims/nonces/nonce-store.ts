import { randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";

/**
 * Single-use nonces for attestation freshness. Memory by default; a shared store
 * (for several replicas) implements the same interface.
 */
export interface NonceStore {
  /** A new nonce (base64url of 32 random bytes) and how many seconds it stays redeemable. */
  issue(): Promise<{ nonce: string; expiresIn: number }>;
  /**
   * Redeems a nonce for a token. True the first time, and again for the same
   * token (a client reuses its token until it expires); false when the nonce is
   * unknown, expired, or was already redeemed by another token (a replay).
   */
  redeem(nonce: string, tokenId: string): Promise<boolean>;
}

/** Nonces live in process memory, bounded in count; the oldest go first when full. */
export function createMemoryNonceStore(options: { ttlMs: number; max?: number }): NonceStore {
  // The value is the token that redeemed the nonce, or "" while unredeemed.
  const nonces = new LRUCache<string, string>({ max: options.max ?? 100_000, ttl: options.ttlMs });
  return {
    issue() {
      const nonce = randomBytes(32).toString("base64url");
      nonces.set(nonce, "");
      return Promise.resolve({ nonce, expiresIn: Math.floor(options.ttlMs / 1000) });
    },
    redeem(nonce, tokenId) {
      const redeemedBy = nonces.get(nonce);
      if (redeemedBy === undefined) return Promise.resolve(false);
      if (redeemedBy === "") {
        // Keep the original expiry: redeeming must not extend a nonce's life.
        nonces.set(nonce, tokenId, { noUpdateTTL: true });
        return Promise.resolve(true);
      }
      return Promise.resolve(redeemedBy === tokenId);
    },
  };
}
