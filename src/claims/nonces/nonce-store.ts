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
   * Redeems a nonce for a token (or a piece of evidence). Answers when the nonce
   * was issued, the first time and again for the same token (a client reuses its
   * token until it expires); undefined when the nonce is unknown, expired, or was
   * already redeemed by another token (a replay).
   */
  redeem(nonce: string, tokenId: string): Promise<{ issuedAt: number } | undefined>;
}

/** Nonces live in process memory, bounded in count; the oldest go first when full. */
export function createMemoryNonceStore(options: {
  ttlMs: number;
  max?: number;
  now?: () => number;
}): NonceStore {
  // The token that redeemed each nonce ("" while unredeemed), and when it was issued.
  const nonces = new LRUCache<string, { redeemedBy: string; issuedAt: number }>({
    max: options.max ?? 100_000,
    ttl: options.ttlMs,
  });
  const now = options.now ?? Date.now;
  return {
    issue() {
      const nonce = randomBytes(32).toString("base64url");
      nonces.set(nonce, { redeemedBy: "", issuedAt: now() });
      return Promise.resolve({ nonce, expiresIn: Math.floor(options.ttlMs / 1000) });
    },
    redeem(nonce, tokenId) {
      const entry = nonces.get(nonce);
      // Expiry by the store's clock (injected in tests); the cache's own TTL only bounds memory.
      if (entry === undefined || now() - entry.issuedAt > options.ttlMs)
        return Promise.resolve(undefined);
      if (entry.redeemedBy === "") {
        // Keep the original expiry: redeeming must not extend a nonce's life.
        nonces.set(nonce, { redeemedBy: tokenId, issuedAt: entry.issuedAt }, { noUpdateTTL: true });
        return Promise.resolve({ issuedAt: entry.issuedAt });
      }
      return Promise.resolve(
        entry.redeemedBy === tokenId ? { issuedAt: entry.issuedAt } : undefined,
      );
    },
  };
}
