import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { runCommand } from "../../state/redis-connection.js";
import type { NonceStore } from "./nonce-store.js";

/**
 * Redeems atomically: the first token to redeem a nonce owns it; the same token
 * may redeem it again, any other is refused. The value is "issuedAt|redeemedBy"
 * ("" while unredeemed); the key keeps its original expiry (redeeming must not
 * extend a nonce's life). Returns issuedAt, or false.
 */
const REDEEM_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if not value then return false end
local bar = string.find(value, '|', 1, true)
if not bar then return false end
local issuedAt = string.sub(value, 1, bar - 1)
local redeemedBy = string.sub(value, bar + 1)
if redeemedBy == '' then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl <= 0 then return false end
  redis.call('SET', KEYS[1], issuedAt .. '|' .. ARGV[1], 'PX', ttl)
  return issuedAt
end
if redeemedBy == ARGV[1] then return issuedAt end
return false
`;

/**
 * Nonces in Redis, shared by every worker and replica using it: a nonce issued by
 * one redeems through any other, once, for one token. Expiry is Redis's (PX).
 * Fails closed: when Redis does not answer, issue and redeem throw
 * SharedStateUnavailableError (the request gets 503), never "valid".
 */
export function createRedisNonceStore(options: {
  client: Redis;
  keyPrefix: string;
  ttlMs: number;
  now?: () => number;
}): NonceStore {
  const { client, keyPrefix, ttlMs } = options;
  const now = options.now ?? Date.now;
  const keyOf = (nonce: string): string => `${keyPrefix}nonce:${nonce}`;
  return {
    async issue() {
      const nonce = randomBytes(32).toString("base64url");
      const stored = await runCommand("issue nonce", () =>
        client.set(keyOf(nonce), `${now()}|`, "PX", ttlMs, "NX"),
      );
      // 256 random bits do not collide; a refusal here means something else wrote the key.
      if (stored !== "OK") throw new Error("nonce key already present");
      return { nonce, expiresIn: Math.floor(ttlMs / 1000) };
    },
    async redeem(nonce, tokenId) {
      const issuedAt = await runCommand(
        "redeem nonce",
        () => client.eval(REDEEM_SCRIPT, 1, keyOf(nonce), tokenId) as Promise<string | null>,
      );
      return typeof issuedAt === "string" ? { issuedAt: Number(issuedAt) } : undefined;
    },
  };
}
