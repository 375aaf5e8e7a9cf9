import { createHash } from "node:crypto";
import type { VerifiedEvidence } from "./evidence.js";

const NONCE = /^[A-Za-z0-9_-]{43}$/;

/**
 * verigate's evidence binding: the guest puts
 *   SHA-512( nonce (32 bytes, from POST /.well-known/verigate/nonce) ‖ SHA-256(client certificate's DER SubjectPublicKeyInfo) )
 * into the report data (SEV-SNP, TDX) or the user data (Nitro). That proves the
 * evidence was made after verigate's challenge, for the key of this TLS client.
 * Undefined for a nonce that is not one of verigate's.
 */
export function bindingFor(nonce: string, spki: Buffer): Buffer | undefined {
  if (!NONCE.test(nonce)) return undefined;
  const keyDigest = createHash("sha256").update(spki).digest();
  return createHash("sha512").update(Buffer.from(nonce, "base64url")).update(keyDigest).digest();
}

/** Whether the evidence carries the binding of `nonce` to the client key `spki`. */
export function isEvidenceBound(evidence: VerifiedEvidence, nonce: string, spki: Buffer): boolean {
  const expected = bindingFor(nonce, spki);
  return (
    expected !== undefined &&
    evidence.reportData.length === expected.length &&
    evidence.reportData.equals(expected)
  );
}
