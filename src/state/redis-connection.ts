import { Redis } from "ioredis";
import type { Logger } from "../audit/logger.js";
import { SharedStateUnavailableError } from "./shared-state-unavailable.js";

/** The `state.redis` settings a connection needs. */
export interface RedisSettings {
  readonly url: string;
  readonly keyPrefix: string;
}

/**
 * A Redis connection that fails fast instead of queueing: with Redis down, a
 * command fails within about a second (no offline queue, one retry, short
 * timeouts) so that a request waiting on it is refused quickly, while ioredis
 * keeps reconnecting in the background and the gateway recovers by itself.
 */
export function connectRedis(settings: RedisSettings, logger?: Logger): Redis {
  const client = new Redis(settings.url, {
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // Reconnect forever, backing off to 2 s: recovery needs no restart.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  let isUp = true;
  client.on("error", (error: unknown) => {
    // Logged once per outage, not once per reconnect attempt.
    if (!isUp) return;
    isUp = false;
    logger?.warn(
      { err: error, redis: redactUrl(settings.url) },
      "shared state (Redis) unreachable; what needs it is refused (503) until it answers",
    );
  });
  client.on("ready", () => {
    if (isUp) return;
    isUp = true;
    logger?.info({ redis: redactUrl(settings.url) }, "shared state (Redis) reachable again");
  });
  return client;
}

/** Waits until the connection is ready, at most `ms`; resolves either way (ioredis keeps trying). */
export async function waitUntilReady(client: Redis, ms: number): Promise<boolean> {
  if (client.status === "ready") return true;
  return new Promise((resolve) => {
    const done = (ready: boolean): void => {
      clearTimeout(timer);
      client.off("ready", onReady);
      resolve(ready);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), ms);
    client.on("ready", onReady);
  });
}

/** Runs a command; any failure (down, timeout, refused) becomes SharedStateUnavailableError. */
export async function runCommand<T>(operation: string, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error: unknown) {
    throw new SharedStateUnavailableError(operation, error);
  }
}

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
