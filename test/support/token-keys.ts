import { createHash } from "node:crypto";
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
  type CryptoKey,
} from "jose";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";

/** A signing key made at test time, and its public JWK as an issuer would publish it. */
export interface TestSigningKey {
  readonly alg: "ES256" | "RS256";
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function createSigningKey(
  alg: "ES256" | "RS256",
  kid: string,
): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicJwk };
}

/** A JWKS document of public keys. */
export function jwksOf(...keys: TestSigningKey[]): { keys: JWK[] } {
  return { keys: keys.map((key) => key.publicJwk) };
}

export interface MintOptions {
  readonly iss: string;
  readonly aud?: string;
  /** Seconds since the epoch; default now. */
  readonly iat?: number;
  /** Seconds from iat; default 300. */
  readonly lifetime?: number;
  /** Extra protected header fields (an attacker's `jwk`, `jku`...). */
  readonly header?: Record<string, unknown>;
  /** Bind to this client certificate (RFC 8705 cnf x5t#S256). */
  readonly boundTo?: IssuedCertificate;
}

/** RFC 8705 thumbprint of a certificate: base64url SHA-256 of its DER. */
export function thumbprintOf(certificate: IssuedCertificate): string {
  return createHash("sha256")
    .update(Buffer.from(certificate.certificate.rawData))
    .digest("base64url");
}

/** Signs a token as an issuer would. */
export async function mintToken(
  key: TestSigningKey,
  claims: JWTPayload,
  options: MintOptions,
): Promise<string> {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    ...claims,
    ...(options.boundTo === undefined
      ? {}
      : { cnf: { "x5t#S256": thumbprintOf(options.boundTo) } }),
  };
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...options.header })
    .setIssuer(options.iss)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.lifetime ?? 300));
  if (options.aud !== undefined) jwt.setAudience(options.aud);
  return jwt.sign(key.privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An unsigned token (`alg: none`), as an attacker would send it. */
export function unsignedToken(claims: JWTPayload, options: MintOptions): string {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const payload = { ...claims, iss: options.iss, aud: options.aud, iat, exp: iat + 300 };
  return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(payload)}.`;
}

/**
 * The HS256 confusion attack: a token MACed with the issuer's PUBLIC key bytes,
 * which a verifier handed raw key bytes would accept.
 */
export async function hs256WithPublicKey(
  key: TestSigningKey,
  claims: JWTPayload,
  options: MintOptions,
): Promise<string> {
  const secret = new TextEncoder().encode(JSON.stringify(key.publicJwk));
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", kid: key.kid })
    .setIssuer(options.iss)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300);
  if (options.aud !== undefined) jwt.setAudience(options.aud);
  return jwt.sign(secret);
}
