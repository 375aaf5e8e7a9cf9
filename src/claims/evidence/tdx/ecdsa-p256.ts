/**
 * ECDSA P-256 with SHA-256 over raw quote fields: DCAP writes public keys as x||y and
 * signatures as r||s (IEEE P1363), 32 bytes each.
 */
import { type KeyObject, createPublicKey, verify } from "node:crypto";

/** The P-256 public key for raw x||y, or undefined when it is not a point on the curve. */
export function importRawP256Key(xy: Uint8Array): KeyObject | undefined {
  if (xy.length !== 64) return undefined;
  try {
    const raw = Buffer.from(xy);
    return createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: raw.subarray(0, 32).toString("base64url"),
        y: raw.subarray(32).toString("base64url"),
      },
      format: "jwk",
    });
  } catch {
    return undefined;
  }
}

/** True when `signature` (r||s) is a valid ECDSA P-256 SHA-256 signature of `data` by `key`. */
export function verifyP256(data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}
