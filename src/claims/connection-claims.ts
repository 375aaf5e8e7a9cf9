import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";
import type { ReasonCode } from "../policy/reasons.js";
import { readVerifiedPeer } from "../tls/verified-peer.js";
import type { ConnectionFacts } from "./build-claims.js";
import { claimsFromCertificate, type VouchingIssuer } from "./certificate-claims.js";
import { subjectPublicKeyInfo } from "./certificate-key.js";
import type { IdentityClaims } from "./claims.js";
import { identityFromCertificate } from "./certificate-identity.js";
import { evidenceFromCertificate } from "./evidence/certificate-evidence.js";
import type { EvidenceIssuer } from "./evidence/evidence-issuer.js";

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
  /** Evidence issuers: TEE evidence carried in the client certificate itself (attested TLS). */
  readonly evidence: readonly EvidenceIssuer[];
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

async function identify(
  socket: TLSSocket,
  context: ConnectionContext,
  now: number,
): Promise<ConnectionClaims> {
  const peer = readVerifiedPeer(socket);
  if (peer.status === "absent") {
    return {
      identity: NO_IDENTITY,
      notes: [],
      problem: { reason: "client-certificate-required", detail: "no certificate presented" },
    };
  }
  if (peer.status === "rejected") {
    const attested = await attestedSelfSigned(socket, context, now);
    return (
      attested ?? {
        identity: NO_IDENTITY,
        notes: [],
        problem: { reason: peer.reason, detail: peer.detail },
      }
    );
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
  // Device and TEE claims ride in the certificate only where an issuer's CA vouches for them...
  // (Without such an issuer the leaf is read alone, for the notes: the chain costs more to fetch.)
  const chain = context.vouching.length === 0 ? [peer.certificate] : peerChain(socket);
  const vouched = claimsFromCertificate(chain, context.vouching, now);
  // ...and hardware evidence in the certificate, bound to its key, outranks a CA's statement.
  const attested =
    context.evidence.length === 0
      ? { notes: [] }
      : await evidenceFromCertificate(peer.certificate, context.evidence, now);
  const device = vouched.device;
  const tee = attested.tee ?? vouched.tee;
  const spki = subjectPublicKeyInfo(peer.certificate);
  return {
    identity: result.identity,
    notes: [...vouched.notes, ...attested.notes],
    spki,
    ...(device === undefined ? {} : { device }),
    ...(tee === undefined ? {} : { tee }),
  };
}

/**
 * Attested TLS without a CA (Gramine RA-TLS style): a client certificate that signed
 * itself is trusted only when an evidence issuer allows it (`acceptSelfSignedCertificates`),
 * its own signature and validity period check out, and TEE evidence inside it verifies
 * and binds its key. The TLS handshake has already proved the client holds that key.
 * Then the identity's source is `attestation`; anything less keeps the 401.
 */
async function attestedSelfSigned(
  socket: TLSSocket,
  context: ConnectionContext,
  now: number,
): Promise<ConnectionClaims | undefined> {
  const issuers = context.evidence.filter((issuer) => issuer.acceptSelfSignedCertificates);
  // OpenSSL names only its first complaint (with tls.crl set, UNABLE_TO_GET_CRL comes
  // before DEPTH_ZERO_SELF_SIGNED_CERT): the checks below decide, not that code.
  if (issuers.length === 0) return undefined;
  const der = socket.getPeerCertificate(false).raw as Buffer | undefined;
  if (der === undefined) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return undefined;
  }
  const isCurrent = Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
  if (!isCurrent || !cert.checkIssued(cert) || !cert.verify(cert.publicKey)) return undefined;
  // RA-TLS certificates often carry no extendedKeyUsage; a wrong one is still refused.
  const identity = identityFromCertificate(der, { allowMissingEku: true });
  if (!identity.ok) return undefined;
  const attested = await evidenceFromCertificate(der, issuers, now);
  if (attested.tee === undefined) {
    const found = attested.notes.join("; ") || "none found";
    const detail = `self-signed certificate without bound, verified evidence: ${found}`;
    return {
      identity: NO_IDENTITY,
      notes: attested.notes,
      problem: { reason: "client-certificate-untrusted", detail },
    };
  }
  // Nobody vouches for the names a self-signed certificate states about itself: only
  // its fingerprint (the key the evidence binds) identifies the caller.
  const { certFingerprint } = identity.identity;
  return {
    identity: Object.freeze({
      source: "attestation",
      ...(certFingerprint === undefined ? {} : { certFingerprint }),
    }),
    notes: attested.notes,
    spki: cert.publicKey.export({ type: "spki", format: "der" }),
    tee: attested.tee,
  };
}

interface Cached {
  readonly revision: string;
  readonly at: number;
  readonly claims: Promise<ConnectionClaims>;
}

const byConnection = new WeakMap<TLSSocket, Cached>();

/**
 * The connection's certificate claims, worked out once per TLS connection (and per
 * config revision), even for requests that arrive while that runs, and reused by
 * every request on it; only the ages move with the clock. Session resumption and
 * renegotiation are off at the listener, so the peer cannot change under this cache.
 */
export async function connectionClaims(
  socket: TLSSocket,
  context: ConnectionContext,
  now: number,
): Promise<ConnectionClaims> {
  let cached = byConnection.get(socket);
  if (cached === undefined || cached.revision !== context.revision) {
    const claims = identify(socket, context, now).then((found) => Object.freeze(found));
    cached = { revision: context.revision, at: now, claims };
    byConnection.set(socket, cached);
  }
  const elapsed = now - cached.at;
  const claims = await cached.claims;
  if (elapsed === 0 || (claims.device?.age === undefined && claims.tee?.age === undefined)) {
    return claims;
  }
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
