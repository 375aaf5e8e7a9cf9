import { Redis } from "ioredis";

/** The Redis the shared-state tests use (`.ci/run` starts one on 127.0.0.1:6390). */
export const TEST_REDIS_URL = process.env["VERIGATE_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6390";

/**
 * Whether a Redis answers at TEST_REDIS_URL. Outside CI a missing Redis skips the
 * shared-state tests (with a message saying so); in CI it fails them: CI must run them.
 */
export async function findTestRedis(): Promise<boolean> {
  const client = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  let answers: boolean;
  try {
    await client.connect();
    answers = (await client.ping()) === "PONG";
  } catch {
    answers = false;
  } finally {
    client.disconnect();
  }
  const isCi = !["", "0", "false"].includes(process.env["CI"] ?? "");
  if (!answers && isCi) {
    throw new Error(
      `no Redis answers at ${TEST_REDIS_URL}: CI must run the shared-state tests (.ci/run starts redis-server)`,
    );
  }
  if (!answers) {
    process.stderr.write(
      `skipping shared-state tests: no Redis answers at ${TEST_REDIS_URL} (start one: redis-server --port 6390 --save "" --appendonly no --daemonize yes, or set VERIGATE_TEST_REDIS_URL)\n`,
    );
  }
  return answers;
}
