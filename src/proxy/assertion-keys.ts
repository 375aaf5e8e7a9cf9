import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from "node:crypto";
import { ConfigError } from "../config/config-problem.js";

/** The one algorithm verigate signs upstream assertions with. */
export const ASSERTION_ALGORITHM = "ES256";
/**
 * The shortest automatic rotation period. A retired key stays published for one
 * period, so the period must outlive the longest assertion (60 s) signed just
 * before a rotation.
 */
export const MIN_ROTATION_MS = 60_000;

/** A public signing key as published in the JWKS. Never has `d`. */
export interface AssertionJwk {
  readonly kty: "EC";
  readonly crv: "P-256";
  readonly x: string;
  readonly y: string;
  /** RFC 7638 thumbprint (SHA-256, base64url) of the public key. */
  readonly kid: string;
  readonly alg: typeof ASSERTION_ALGORITHM;
  readonly use: "sig";
}

export interface AssertionJwks {
  readonly keys: readonly AssertionJwk[];
}

export interface AssertionKeysOptions {
  /** A PKCS#8 (or SEC1) PEM P-256 private key from config; without it a key is made at start. */
  readonly keyPem?: string;
  /** Rotate to a fresh key when `maybeRotate` sees this much time passed since the last rotation. */
  readonly rotateEveryMs?: number;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
}

/**
 * verigate's keys for the `x-verigate-assertion` it sends upstream. The private
 * keys never leave this object: callers get signatures and public JWKs only.
 */
export interface AssertionKeys {
  /** The kid of the key that signs now. */
  readonly kid: string;
  /** Makes a new current key; the old current key stays published until the next rotation. */
  rotate(): void;
  /**
   * Rotates if `rotateEveryMs` is set and has passed since the last rotation (or start).
   * Cheap: call it per request. Returns whether it rotated.
   */
  maybeRotate(now?: number): boolean;
  /** The current and previous public keys (current first), frozen. */
  jwks(): AssertionJwks;
  /** A compact JWS (`header.payload.signature`) over `payload` with the current key. */
  signJwt(payload: object): string;
}

interface SigningKey {
  readonly privateKey: KeyObject;
  readonly jwk: AssertionJwk;
  /** base64url of the protected header, computed once per key. */
  readonly encodedHeader: string;
}

function problem(message: string): ConfigError {
  return new ConfigError([{ path: "", message: `upstream assertion key: ${message}` }]);
}

function loadPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch (error: unknown) {
    throw problem(
      `not a PEM private key (${error instanceof Error ? error.message : "unreadable"})`,
    );
  }
  // Fails closed: ES256 is pinned by upstreams, so any other key type is a config error.
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw problem("must be an EC P-256 private key (ES256)");
  }
  return key;
}

function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const exported = createPublicKey(privateKey).export({ format: "jwk" });
  const { x, y } = exported;
  if (typeof x !== "string" || typeof y !== "string") throw problem("has no public point");
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const kid = createHash("sha256")
    .update(JSON.stringify({ crv: "P-256", kty: "EC", x, y }))
    .digest("base64url");
  const jwk: AssertionJwk = Object.freeze({
    kty: "EC",
    crv: "P-256",
    x,
    y,
    kid,
    alg: ASSERTION_ALGORITHM,
    use: "sig",
  });
  const header = JSON.stringify({ alg: ASSERTION_ALGORITHM, kid, typ: "JWT" });
  return { privateKey, jwk, encodedHeader: Buffer.from(header).toString("base64url") };
}

function generateSigningKey(): SigningKey {
  return signingKeyFrom(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
}

class RotatingAssertionKeys implements AssertionKeys {
  #current: SigningKey;
  #previous: SigningKey | undefined;
  #rotatedAt: number;
  #jwks: AssertionJwks;
  readonly #rotateEveryMs: number | undefined;
  readonly #now: () => number;

  constructor(first: SigningKey, rotateEveryMs: number | undefined, now: () => number) {
    this.#current = first;
    this.#previous = undefined;
    this.#rotateEveryMs = rotateEveryMs;
    this.#now = now;
    this.#rotatedAt = now();
    this.#jwks = this.#publish();
  }

  get kid(): string {
    return this.#current.jwk.kid;
  }

  rotate(): void {
    // Exactly one retired key stays published: tokens signed just before this
    // rotation still verify, and a key two rotations old is gone.
    this.#previous = this.#current;
    this.#current = generateSigningKey();
    this.#rotatedAt = this.#now();
    this.#jwks = this.#publish();
  }

  maybeRotate(now: number = this.#now()): boolean {
    if (this.#rotateEveryMs === undefined || now - this.#rotatedAt < this.#rotateEveryMs) {
      return false;
    }
    this.rotate();
    this.#rotatedAt = now;
    return true;
  }

  jwks(): AssertionJwks {
    return this.#jwks;
  }

  signJwt(payload: object): string {
    const key = this.#current;
    const signingInput = `${key.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    // JWS ES256 wants the raw r||s form (RFC 7518 §3.4), not DER.
    const signature = sign("sha256", Buffer.from(signingInput), {
      key: key.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    return `${signingInput}.${signature.toString("base64url")}`;
  }

  #publish(): AssertionJwks {
    const keys =
      this.#previous === undefined ? [this.#current.jwk] : [this.#current.jwk, this.#previous.jwk];
    return Object.freeze({ keys: Object.freeze(keys) });
  }
}

/**
 * The keys that sign upstream assertions. With `keyPem` the configured key signs
 * (its kid is its RFC 7638 thumbprint, so it is stable across restarts); without,
 * a P-256 key is made at start and never written anywhere. No timers: rotation
 * happens in `rotate()` or in `maybeRotate()` called from the request path.
 */
export function createAssertionKeys(options: AssertionKeysOptions = {}): AssertionKeys {
  const { keyPem, rotateEveryMs, now = Date.now } = options;
  if (rotateEveryMs !== undefined) {
    if (!Number.isFinite(rotateEveryMs) || rotateEveryMs < MIN_ROTATION_MS) {
      throw problem(`rotateEveryMs must be at least ${MIN_ROTATION_MS}`);
    }
    // A configured key exists so upstreams can rely on it; rotating it away
    // after one period would silently replace it with an unconfigured key.
    if (keyPem !== undefined) throw problem("a configured key is not rotated automatically");
  }
  const first =
    keyPem === undefined ? generateSigningKey() : signingKeyFrom(loadPrivateKey(keyPem));
  return new RotatingAssertionKeys(first, rotateEveryMs, now);
}
