import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";

/** Where an issuer's verification keys come from: only its configuration, never the token. */
export interface KeySource {
  readonly getKey: JWTVerifyGetKey;
  /** `file:` or the JWKS URI, for messages. */
  readonly origin: string;
}

const ASYMMETRIC_KEY_TYPES = new Set(["RSA", "EC", "OKP"]);
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Checks a JWKS document: a `keys` list of public, asymmetric keys. A symmetric
 * (`oct`) or private key is refused: verigate verifies signatures, it never holds
 * a secret that could also sign.
 */
export function checkJwks(value: unknown): { jwks?: JSONWebKeySet; problem?: string } {
  if (
    typeof value !== "object" ||
    value === null ||
    !Array.isArray((value as { keys?: unknown }).keys)
  ) {
    return { problem: "is not a JWKS (an object with a keys list)" };
  }
  const keys = (value as { keys: unknown[] }).keys;
  if (keys.length === 0) return { problem: "holds no keys" };
  for (const [i, key] of keys.entries()) {
    const k = key as Record<string, unknown>;
    if (typeof key !== "object" || key === null || !ASYMMETRIC_KEY_TYPES.has(String(k["kty"]))) {
      return { problem: `key #${i + 1} is not an RSA, EC or OKP public key` };
    }
    if ("d" in k) return { problem: `key #${i + 1} is a private key: publish only public keys` };
  }
  return { jwks: value as JSONWebKeySet };
}

/** A key source over a JWKS read from a file at load time. */
export function localKeySource(jwks: JSONWebKeySet, file: string): KeySource {
  return { getKey: createLocalJWKSet(jwks), origin: `file ${file}` };
}

/**
 * A key source over a remote JWKS. jose fetches it with a timeout, caches it,
 * refetches on an unknown `kid` after a cooldown, and shares one fetch in flight.
 * When the keys cannot be had, verification fails and the request is denied (503).
 */
export function remoteKeySource(
  uri: string,
  timeoutMs: number,
): { source?: KeySource; problem?: string } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { problem: `"${uri}" is not a URL` };
  }
  const isLoopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback)) {
    return { problem: "must be https:// (http:// only on loopback)" };
  }
  const getKey = createRemoteJWKSet(url, {
    timeoutDuration: timeoutMs,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  return { source: { getKey, origin: url.href } };
}
