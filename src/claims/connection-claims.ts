import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";
import type { ReasonCode } from "../policy/reasons.js";
import { readVerifiedPeer } from "../tls/verified-peer.js";
import type { ConnectionFacts } from "./build-claims.js";
import { claimsFromCertificate, type VouchingIssuer } from "./certificate-claims.js";
import type { IdentityClaims } from "./claims.js";
import { identityFromCertificate } from "./certificate-identity.js";

/** What a TLS connection proved, or why it proved no identity. */
export interface ConnectionClaims extends ConnectionFacts {
  /** Set when the identity is `none`: what was missing or wrong, for a 401 and the audit log. */
  readonly problem?: { readonly reason: ReasonCode; readonly detail: string };
}

export interface ConnectionContext {
  /** The snapshot's revision: claims are recomputed when the config changes. */
  readonly revision: string;
  readonly allowMissingEku: boolean;
  readonly vouching: readonly VouchingIssuer[];
}

const NO_IDENTITY: IdentityClaims = Object.freeze({ source: "none" });
const MAX_CHAIN = 10;

/** The peer's chain as DER, leaf first, as Node links it (peer-sent certificates, then the trust store's). */
function peerChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw !== undefined && chain.length < MAX_CHAIN) {
    chain.push(cert.raw);
    const next: DetailedPeerCertificate | undefined = cert.issuerCertificate;
    if (next === undefined || next === cert || next.raw.equals(cert.raw)) break;
    cert = next;
  }
  return chain;
}

function identify(socket: TLSSocket, context: ConnectionContext, now: number): ConnectionClaims {
  const peer = readVerifiedPeer(socket);
  if (peer.status === "absent") {
    return {
      identity: NO_IDENTITY,
      notes: [],
      problem: { reason: "client-certificate-required", detail: "no certificate presented" },
    };
  }
  if (peer.status === "rejected") {
    return {
      identity: NO_IDENTITY,
      notes: [],
      problem: { reason: peer.reason, detail: peer.detail },
    };
  }
  const result = identityFromCertificate(peer.certificate, {
    allowMissingEku: context.allowMissingEku,
  });
  if (!result.ok) {
    return {
      identity: NO_IDENTITY,
      notes: [],
      problem: { reason: result.reason, detail: result.detail },
    };
  }
  // Device and TEE claims ride in the certificate only where an issuer's CA vouches for them.
  const { device, tee, notes } = claimsFromCertificate(peerChain(socket), context.vouching, now);
  const spki = new X509Certificate(peer.certificate).publicKey.export({
    type: "spki",
    format: "der",
  });
  return {
    identity: result.identity,
    notes,
    spki,
    ...(device === undefined ? {} : { device }),
    ...(tee === undefined ? {} : { tee }),
  };
}

interface Cached {
  readonly revision: string;
  readonly at: number;
  readonly claims: ConnectionClaims;
}

const byConnection = new WeakMap<TLSSocket, Cached>();

/**
 * The connection's certificate claims, parsed once per TLS connection (and per
 * config revision) and reused by every request on it; only the ages move with
 * the clock. Session resumption and renegotiation are off at the listener, so
 * the peer cannot change under this cache.
 */
export function connectionClaims(
  socket: TLSSocket,
  context: ConnectionContext,
  now: number,
): ConnectionClaims {
  let cached = byConnection.get(socket);
  if (cached === undefined || cached.revision !== context.revision) {
    cached = {
      revision: context.revision,
      at: now,
      claims: Object.freeze(identify(socket, context, now)),
    };
    byConnection.set(socket, cached);
  }
  const elapsed = now - cached.at;
  const { claims } = cached;
  if (elapsed === 0 || (claims.device?.age === undefined && claims.tee?.age === undefined))
    return claims;
  return {
    ...claims,
    ...(claims.device?.age === undefined
      ? {}
      : { device: { ...claims.device, age: claims.device.age + elapsed } }),
    ...(claims.tee?.age === undefined
      ? {}
      : { tee: { ...claims.tee, age: claims.tee.age + elapsed } }),
  };
}
