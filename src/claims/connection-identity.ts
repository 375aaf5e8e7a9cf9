import type { TLSSocket } from "node:tls";
import { readVerifiedPeer } from "../tls/verified-peer.js";
import type { ReasonCode } from "../policy/reasons.js";
import type { IdentityClaims } from "./claims.js";
import {
  identityFromCertificate,
  type CertificateIdentityOptions,
} from "./certificate-identity.js";

/** The identity a TLS connection proved, or why it proved none. */
export interface ConnectionIdentity {
  readonly identity: IdentityClaims;
  /** Set when the identity is `none`: what was missing or wrong, for a 401 and the audit log. */
  readonly problem?: { readonly reason: ReasonCode; readonly detail: string };
}

const NO_IDENTITY: IdentityClaims = Object.freeze({ source: "none" });
const byConnection = new WeakMap<TLSSocket, ConnectionIdentity>();

function identify(socket: TLSSocket, options: CertificateIdentityOptions): ConnectionIdentity {
  const peer = readVerifiedPeer(socket);
  switch (peer.status) {
    case "absent":
      return {
        identity: NO_IDENTITY,
        problem: { reason: "client-certificate-required", detail: "no certificate presented" },
      };
    case "rejected":
      return { identity: NO_IDENTITY, problem: { reason: peer.reason, detail: peer.detail } };
    case "verified": {
      const result = identityFromCertificate(peer.certificate, options);
      return result.ok
        ? { identity: result.identity }
        : { identity: NO_IDENTITY, problem: { reason: result.reason, detail: result.detail } };
    }
  }
}

/**
 * The connection's certificate identity, parsed once per TLS connection and reused
 * by every request on it. Session resumption and renegotiation are off at the
 * listener, so the peer cannot change under this cache.
 */
export function identifyConnection(
  socket: TLSSocket,
  options: CertificateIdentityOptions,
): ConnectionIdentity {
  let found = byConnection.get(socket);
  if (found === undefined) {
    found = Object.freeze(identify(socket, options));
    byConnection.set(socket, found);
  }
  return found;
}
