import type { RevocationStatus } from "../state/revocation-list.js";
import type { IdentityClaims } from "./claims.js";
import type { ConnectionClaims } from "./connection-claims.js";

/** The revocation list as the request path reads it (in memory, no I/O). */
export interface RevocationLookup {
  statusOf(fingerprint: string): RevocationStatus;
}

const NO_IDENTITY: IdentityClaims = Object.freeze({ source: "none" });

/**
 * Applies `verigate revoke` to what the connection proved: a revoked certificate
 * proves nothing (no identity, device or TEE claims from it), exactly as one listed
 * in tls.crl. `unavailable` when the list is too old to trust (fail closed).
 */
export function applyRevocations(
  connection: ConnectionClaims,
  revocations: RevocationLookup | undefined,
): ConnectionClaims | "unavailable" {
  const fingerprint = connection.identity.certFingerprint;
  if (revocations === undefined || fingerprint === undefined) return connection;
  const status = revocations.statusOf(fingerprint);
  if (status === "not-revoked") return connection;
  if (status === "unknown") return "unavailable";
  return {
    identity: NO_IDENTITY,
    notes: connection.notes,
    problem: { reason: "client-certificate-revoked", detail: "revoked by verigate revoke" },
  };
}
