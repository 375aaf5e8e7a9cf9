import type { Server } from "node:tls";
import type { TLSSocket } from "node:tls";

/**
 * Whether a TLS connection was handshaken with the secure context the server
 * uses now. After a reload changes the TLS settings (client CAs, CRL, server
 * certificate), `server.setSecureContext` applies them to new handshakes only: a
 * keep-alive connection verified under the old CAs or before a CRL update must
 * not keep its identity. Node has no public accessor for either context, so this
 * compares its internal fields (stable since Node 11); when they are missing the
 * answer is "no", so a Node that changes them fails closed (and the reload tests
 * fail loudly).
 */
export function handshakenWithCurrentContext(socket: TLSSocket, server: Server): boolean {
  const used = (socket as unknown as { _tlsOptions?: { secureContext?: unknown } })._tlsOptions
    ?.secureContext;
  const current = (server as unknown as { _sharedCreds?: unknown })._sharedCreds;
  return used !== undefined && used === current;
}
