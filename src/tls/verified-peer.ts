import type { TLSSocket } from "node:tls";
import type { ReasonCode } from "../policy/reasons.js";

/**
 * What the TLS layer established about the client. The listener asks every client
 * for a certificate but lets the handshake finish without a valid one, so that a
 * refused client gets an explainable 401 with a request id rather than a bare
 * handshake failure. The gate is here: only `verified` may become an identity.
 */
export type VerifiedPeer =
  | { readonly status: "verified"; readonly certificate: Buffer }
  | { readonly status: "absent" }
  | { readonly status: "rejected"; readonly reason: ReasonCode; readonly detail: string };

/** OpenSSL verification errors, grouped into the reasons a policy author reads. */
const REASON_BY_OPENSSL_CODE: Readonly<Record<string, ReasonCode>> = {
  CERT_HAS_EXPIRED: "client-certificate-expired",
  CERT_NOT_YET_VALID: "client-certificate-not-yet-valid",
  CERT_REVOKED: "client-certificate-revoked",
  INVALID_PURPOSE: "client-certificate-wrong-purpose",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "client-certificate-untrusted",
  UNABLE_TO_GET_ISSUER_CERT: "client-certificate-untrusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "client-certificate-untrusted",
  SELF_SIGNED_CERT_IN_CHAIN: "client-certificate-untrusted",
  DEPTH_ZERO_SELF_SIGNED_CERT: "client-certificate-untrusted",
  CERT_SIGNATURE_FAILURE: "client-certificate-untrusted",
  CERT_UNTRUSTED: "client-certificate-untrusted",
};

/**
 * Reads the verification outcome of a TLS connection. Fails closed: a certificate
 * counts only when OpenSSL says `authorized`; a populated `getPeerCertificate()`
 * on an unauthorized socket is never trusted.
 */
export function readVerifiedPeer(socket: TLSSocket): VerifiedPeer {
  if (socket.authorized) {
    // Not getPeerX509Certificate(): its first call on a connection costs about twice as much.
    const raw = socket.getPeerCertificate(false).raw as Buffer | undefined;
    // Authorized without a certificate cannot happen with requestCert; refuse anyway.
    if (raw === undefined || raw.length === 0) {
      return {
        status: "rejected",
        reason: "client-certificate-invalid",
        detail: "authorized without a certificate",
      };
    }
    return { status: "verified", certificate: raw };
  }
  const error = socket.authorizationError as unknown;
  const code =
    typeof error === "string" ? error : error instanceof Error ? error.message : "UNKNOWN";
  const presented = Object.keys(socket.getPeerCertificate(false)).length > 0;
  if (!presented) return { status: "absent" };
  return {
    status: "rejected",
    reason: REASON_BY_OPENSSL_CODE[code] ?? "client-certificate-invalid",
    detail: code,
  };
}
