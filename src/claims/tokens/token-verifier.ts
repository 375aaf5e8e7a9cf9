import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ReasonCode } from "../../policy/reasons.js";
import type { TokenIssuer } from "./token-issuer.js";
import {
  checkTokenTimes,
  verifyToken,
  type TokenVerification,
  type VerifiedToken,
} from "./verify-token.js";

/** A check run once, when a token is first verified (a nonce redemption), before it is cached. */
export type FirstUseCheck = (
  token: VerifiedToken,
  tokenId: string,
) => Promise<{ reason: ReasonCode; detail: string } | undefined>;

const MAX_CACHED_TOKENS = 10_000;
/** The cache's keys are the tokens themselves: at most this many characters of them. */
const MAX_CACHED_CHARACTERS = 32 * 1024 * 1024;
const MAX_CACHE_MS = 10 * 60_000;

/** A stable id of a token (its SHA-256): the cache key, and what a nonce is redeemed for. */
export function tokenIdOf(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/** What token verification reports to metrics (GatewayMetrics implements it). */
export interface TokenTelemetry {
  /** A token was verified from the cache (`hit`) or by its signature (`miss`). */
  tokenVerified(issuer: string, cache: "hit" | "miss"): void;
  /** A token was refused because its issuer's keys could not be fetched (down, slow, junk). */
  keyFetchFailed(issuer: string): void;
}

const NO_TELEMETRY: TokenTelemetry = { tokenVerified() {}, keyFetchFailed() {} };

/**
 * Verifies tokens and remembers the ones that passed, no longer than their expiry
 * (and at most 10 minutes). A remembered token still passes the time checks on
 * every use; only the signature and first-use checks are skipped.
 */
export class TokenVerifier {
  // Keyed by the token itself: a lookup hashes it once, where a SHA-256 per request cost more.
  readonly #cache = new LRUCache<string, VerifiedToken>({
    max: MAX_CACHED_TOKENS,
    maxSize: MAX_CACHED_CHARACTERS,
    sizeCalculation: (_token, key) => key.length,
  });
  readonly #telemetry: TokenTelemetry;

  constructor(telemetry: TokenTelemetry = NO_TELEMETRY) {
    this.#telemetry = telemetry;
  }

  /**
   * A token verified before, checked against the clock again, without waiting;
   * undefined when it has to be verified (`verify`).
   */
  cached(token: string, issuer: TokenIssuer, now: number): TokenVerification | undefined {
    const cached = this.#cache.get(`${issuer.name}\0${token}`);
    if (cached === undefined) return undefined;
    this.#telemetry.tokenVerified(issuer.name, "hit");
    const late = checkTokenTimes(cached, issuer, now);
    return late === undefined ? { ok: true, token: cached } : { ok: false, ...late };
  }

  async verify(
    token: string,
    issuer: TokenIssuer,
    now: number,
    firstUse?: FirstUseCheck,
  ): Promise<TokenVerification> {
    const known = this.cached(token, issuer, now);
    if (known !== undefined) return known;
    const result = await verifyToken(token, issuer, now);
    this.#telemetry.tokenVerified(issuer.name, "miss");
    if (!result.ok) {
      if (result.reason === "key-source-unavailable") this.#telemetry.keyFetchFailed(issuer.name);
      return result;
    }
    const refused =
      firstUse === undefined ? undefined : await firstUse(result.token, tokenIdOf(token));
    if (refused !== undefined) return { ok: false, ...refused };
    const ttl = Math.min(result.token.expiresAt - now, MAX_CACHE_MS);
    if (ttl > 0) this.#cache.set(`${issuer.name}\0${token}`, result.token, { ttl });
    return result;
  }
}
