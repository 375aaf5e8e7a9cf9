/**
 * Who vouches for the claims a client certificate carries, decided by signatures,
 * never by names. OpenSSL has already verified the leaf against the TLS trust
 * anchors; that says nothing about which CA stated the device or TEE claims. Here
 * the path is rebuilt from the leaf upwards through the certificates the peer sent,
 * each step proven by a signature, and an issuer vouches when one of its CAs signed
 * a certificate on that path. A peer-sent certificate that merely carries a CA's
 * name (and a key of the attacker's choosing) never counts.
 */
import { X509Certificate } from "node:crypto";

/** A configured issuer whose CAs may vouch for claims inside client certificates. */
export interface VouchingIssuer {
  /** The issuer's name in the config: what `device.issuer` / `tee.issuer` say. */
  readonly name: string;
  /** `posture` vouches for `device.*`, `attestation` for `tee.*`; `identity` for neither. */
  readonly kind: "posture" | "attestation" | "identity";
  /** The issuer's CA certificates (its `ca` file). */
  readonly cas: readonly X509Certificate[];
}

/** The kinds of issuer that vouch for certificate claims. */
export type VouchingKind = "posture" | "attestation";

/** Longest path walked, the leaf included: deeper PKIs are not worth the signature checks. */
export const MAX_PATH_LENGTH = 8;
/** Peer-sent certificates looked at beyond the leaf; the rest are ignored. */
export const MAX_PEER_CERTIFICATES = 16;

/** The leaf and the certificates above it, each proven to have signed the one below. */
export interface SignaturePath {
  /** Leaf first; empty when the leaf itself is unusable. */
  readonly certificates: readonly X509Certificate[];
  readonly notes: readonly string[];
}

/** Signature check that treats any failure (unsupported key, odd algorithm) as "no". */
function isSignedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    // checkIssued: names, key identifiers and the issuer's keyUsage; verify: the signature.
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function isValidAt(cert: X509Certificate, now: number): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  // An unreadable date fails closed (NaN compares false).
  return from <= now && now <= to;
}

function parse(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/**
 * Walks from the leaf upwards through the peer-sent certificates: each step needs a
 * CA certificate, valid at `now`, that issued the one below (`checkIssued`) and whose
 * key verifies its signature. Order in the chain does not matter; no certificate is
 * used twice. Never throws.
 */
export function buildSignaturePath(chain: readonly Buffer[], now: number): SignaturePath {
  const notes: string[] = [];
  const [leafDer, ...peerDers] = chain;
  const leaf = leafDer === undefined ? undefined : parse(leafDer);
  if (leaf === undefined)
    return { certificates: [], notes: ["the leaf certificate cannot be parsed"] };
  // OpenSSL checked this at the handshake; a later `now` (a long-lived connection) may not agree.
  if (!isValidAt(leaf, now)) {
    return { certificates: [], notes: ["the leaf certificate is not valid now"] };
  }
  if (peerDers.length > MAX_PEER_CERTIFICATES) {
    notes.push(`only the first ${MAX_PEER_CERTIFICATES} peer certificates were considered`);
  }
  const remaining: X509Certificate[] = [];
  for (const der of peerDers.slice(0, MAX_PEER_CERTIFICATES)) {
    const cert = parse(der);
    if (cert === undefined) notes.push("a peer certificate cannot be parsed: ignored");
    else remaining.push(cert);
  }
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  while (path.length < MAX_PATH_LENGTH) {
    const below = current;
    const index = remaining.findIndex(
      (candidate) => candidate.ca && isValidAt(candidate, now) && isSignedBy(below, candidate),
    );
    const next = remaining[index];
    if (next === undefined) break;
    remaining.splice(index, 1);
    path.push(next);
    current = next;
  }
  return { certificates: path, notes };
}

/**
 * Does `ca` vouch for the path's leaf? Yes when a certificate above the leaf is `ca`
 * itself (same DER) or when `ca`'s key signed a certificate on the path.
 */
function vouches(ca: X509Certificate, path: readonly X509Certificate[], now: number): boolean {
  if (!ca.ca || !isValidAt(ca, now)) return false;
  return path.some((cert, i) => (i > 0 && cert.raw.equals(ca.raw)) || isSignedBy(cert, ca));
}

/**
 * The first issuer of `kind` (in configuration order) one of whose CAs vouches for
 * the path's leaf, or undefined. An empty path is vouched for by nobody.
 */
export function findVouchingIssuer(
  path: SignaturePath,
  issuers: readonly VouchingIssuer[],
  kind: VouchingKind,
  now: number,
): VouchingIssuer | undefined {
  if (path.certificates.length === 0) return undefined;
  return issuers.find(
    (issuer) =>
      issuer.kind === kind && issuer.cas.some((ca) => vouches(ca, path.certificates, now)),
  );
}
