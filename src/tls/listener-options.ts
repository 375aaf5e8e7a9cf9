import { constants } from "node:crypto";
import type { ServerOptions } from "node:https";
import type { SecureContextOptions } from "node:tls";
import type { Snapshot } from "../config/snapshot.js";
import { splitCrls } from "./tls-material.js";

/**
 * TLS and HTTP options of the proxy listener, from a snapshot.
 *
 * - Every client is asked for a certificate, verified against `tls.clientCAs` (and
 *   `tls.crl`), but the handshake is let through either way: the pipeline gates
 *   each request on the verification result, so a refused client gets a 401 it
 *   can read and an audit line, and routes may accept other identities later.
 * - Session resumption is off (no tickets, no session cache): a resumed session
 *   keeps the original peer certificate, which would carry an identity past a CRL
 *   or CA change (the class of nginx CVE-2025-23419 and Envoy CVE-2022-21654).
 * - Renegotiation is refused: it could change the peer under a verified connection.
 */
export function listenerOptions(snapshot: Snapshot): ServerOptions {
  const { limits } = snapshot;
  return {
    ...secureContextOptions(snapshot),
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ["http/1.1"],
    handshakeTimeout: limits.handshakeTimeout,
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.idleTimeout,
    // Node checks headersTimeout and requestTimeout this often (default every 30 s).
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeout),
    maxHeaderSize: limits.maxHeaderBytes,
  };
}

/** The part of the listener's options a reload can replace (`server.setSecureContext`). */
export function secureContextOptions(snapshot: Snapshot): SecureContextOptions {
  const { tls } = snapshot;
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.clientCAs,
    ...(tls.crl === undefined ? {} : { crl: splitCrls(tls.crl) }),
    minVersion: tls.minVersion,
    secureOptions: constants.SSL_OP_NO_TICKET | constants.SSL_OP_NO_RENEGOTIATION,
  };
}
