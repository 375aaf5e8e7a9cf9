import type { Redis } from "ioredis";
import { runCommand } from "./redis-connection.js";

/** What the request path learns about a client certificate's fingerprint. */
export type RevocationStatus = "revoked" | "not-revoked" | "unknown";

/** The Redis keys of the revocation list: a set of fingerprints, and a counter bumped on every change. */
function keysOf(keyPrefix: string): { set: string; version: string } {
  return { set: `${keyPrefix}revoked`, version: `${keyPrefix}revoked:version` };
}

/** A SHA-256 fingerprint as `identity.certFingerprint` writes it (lowercase hex); colons and case tolerated. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replaceAll(":", "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** `verigate revoke`: adds a fingerprint to the shared list (and bumps its version so every process re-reads it). */
export async function revokeFingerprint(
  client: Redis,
  keyPrefix: string,
  fingerprint: string,
): Promise<void> {
  const keys = keysOf(keyPrefix);
  await runCommand("revoke", () =>
    client.multi().sadd(keys.set, fingerprint).incr(keys.version).exec(),
  );
}

/**
 * The revocation list, mirrored in process memory and re-read every second (only
 * when its version changed), so a request never waits on Redis: a revocation
 * reaches every worker and replica within about a second. When Redis does not
 * answer, the last list read stays in force; past `maxAgeMs` without a successful
 * read, fails closed: every certificate's status is `unknown` (503), as an expired
 * CRL refuses every client.
 */
export class RevocationMirror {
  readonly #client: Redis;
  readonly #keys: { set: string; version: string };
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #revoked: ReadonlySet<string> = new Set();
  #version: string | null | undefined = undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;

  constructor(options: { client: Redis; keyPrefix: string; maxAgeMs: number; now?: () => number }) {
    this.#client = options.client;
    this.#keys = keysOf(options.keyPrefix);
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? Date.now;
  }

  /** Reads the list now, then every `intervalMs`. */
  async start(intervalMs = 1_000): Promise<void> {
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
    await this.refresh();
  }

  /** Re-reads the list if its version changed; never throws (a failed read leaves the last list in force). */
  async refresh(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const version = await runCommand("read revocations", () =>
        this.#client.get(this.#keys.version),
      );
      if (version !== this.#version) {
        const members = await runCommand("read revocations", () =>
          this.#client.smembers(this.#keys.set),
        );
        this.#revoked = new Set(members);
        this.#version = version;
      }
      this.#readAt = this.#now();
    } catch {
      // Redis is down: the connection logs it; the list's age decides when to fail closed.
    } finally {
      this.#reading = false;
    }
  }

  /** A fingerprint's status by the list in memory (no I/O). */
  statusOf(fingerprint: string): RevocationStatus {
    if (this.#now() - this.#readAt > this.#maxAgeMs) return "unknown";
    return this.#revoked.has(fingerprint) ? "revoked" : "not-revoked";
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
