import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisNonceStore } from "../../src/claims/nonces/redis-nonce-store.js";
import { connectRedis, waitUntilReady } from "../../src/state/redis-connection.js";
import { isSharedStateUnavailable } from "../../src/state/shared-state-unavailable.js";
import { findTestRedis, TEST_REDIS_URL } from "../support/test-redis.js";

const hasRedis = await findTestRedis();

describe.skipIf(!hasRedis)("the Redis nonce store", () => {
  const keyPrefix = `verigate-test-${randomUUID()}:`;
  // Two connections: two gateways.
  let one: Redis;
  let two: Redis;
  beforeAll(async () => {
    one = connectRedis({ url: TEST_REDIS_URL, keyPrefix });
    two = connectRedis({ url: TEST_REDIS_URL, keyPrefix });
    await Promise.all([waitUntilReady(one, 2_000), waitUntilReady(two, 2_000)]);
  });
  afterAll(() => {
    one.disconnect();
    two.disconnect();
  });

  it("lets exactly one of many racing tokens redeem a nonce, across connections", async () => {
    const a = createRedisNonceStore({ client: one, keyPrefix, ttlMs: 60_000 });
    const b = createRedisNonceStore({ client: two, keyPrefix, ttlMs: 60_000 });
    const { nonce, expiresIn } = await a.issue();
    expect(expiresIn).toBe(60);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).redeem(nonce, `token-${i}`)),
    );
    const winners = results.flatMap((r, i) => (r === undefined ? [] : [i]));
    expect(winners).toHaveLength(1);
    const winner = `token-${winners[0]}`;
    // The winner may redeem again (it reuses its token); nobody else.
    expect(await b.redeem(nonce, winner)).toBeDefined();
    expect(await a.redeem(nonce, "token-late")).toBeUndefined();
  });

  it("forgets a nonce after its ttl, and never knew one it did not issue", async () => {
    const store = createRedisNonceStore({ client: one, keyPrefix, ttlMs: 150 });
    const { nonce } = await store.issue();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await store.redeem(nonce, "t")).toBeUndefined();
    expect(await store.redeem("A".repeat(43), "t")).toBeUndefined();
  });

  it("keeps a redeemed nonce's original expiry", async () => {
    const store = createRedisNonceStore({ client: one, keyPrefix, ttlMs: 60_000 });
    const { nonce } = await store.issue();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await store.redeem(nonce, "t")).toBeDefined();
    // Redeeming did not reset the 60 s: about 100 ms of it are gone.
    expect(await one.pttl(`${keyPrefix}nonce:${nonce}`)).toBeLessThanOrEqual(59_950);
  });

  it("fails closed, with a typed error, when Redis does not answer", async () => {
    const closed = connectRedis({ url: "redis://127.0.0.1:1", keyPrefix });
    try {
      const store = createRedisNonceStore({ client: closed, keyPrefix, ttlMs: 1_000 });
      const outcome = await store.redeem("A".repeat(43), "t").then(
        () => "answered",
        (error: unknown) => (isSharedStateUnavailable(error) ? error.code : "other error"),
      );
      expect(outcome).toBe("shared-state-unavailable");
      await expect(store.issue()).rejects.toThrow(/shared state unavailable/);
    } finally {
      closed.disconnect();
    }
  });
});
