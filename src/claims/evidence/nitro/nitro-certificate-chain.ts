/**
 * The Nitro certificate chain: the document's signing `certificate`, then its
 * `cabundle` in reverse (the bundle is root first), ending at the pinned root.
 *
 * Invariants, each one a refusal when broken:
 * - `cabundle[0]` is byte-for-byte the pinned root: a chain to any other root, however
 *   well formed, proves nothing about AWS.
 * - Every certificate is issued by the next one: names, key identifiers and the
 *   issuer's signature (OpenSSL's `checkIssued` and `verify`), checked from the root
 *   down, so no key is used before it is itself vouched for.
 * - Every certificate is signed with ecdsa-with-SHA384, has no critical extension other
 *   than basicConstraints and keyUsage, and is valid at the DOCUMENT'S timestamp
 *   (not the verifier's clock: the leaf lives about three hours, and how old a
 *   document may be is the caller's freshness policy).
 * - Every CA certificate says CA:TRUE, may sign certificates (keyCertSign) and is not
 *   asked to head a longer path than its pathLenConstraint allows.
 * - The leaf is not a CA, may sign (digitalSignature), and holds a P-384 key.
 *
 * No revocation: the AWS Nitro PKI publishes no revocation the attestation process
 * asks verifiers to consult, and leaf lifetimes are hours.
 */
import { X509Certificate } from "node:crypto";
import { DerError } from "../../der-reader.js";
import {
  BASIC_CONSTRAINTS_OID,
  ECDSA_WITH_SHA384_OID,
  KEY_USAGE_OID,
  readCertificateFacts,
  type CertificateFacts,
} from "./certificate-facts.js";

/** The certificates a Nitro document carries and the time to check them at. */
export interface NitroChainInput {
  /** The document's `certificate` (DER). */
  readonly certificate: Uint8Array;
  /** The document's `cabundle` (DER each), root first. */
  readonly cabundle: readonly Uint8Array[];
  /** The pinned root (DER). */
  readonly root: Uint8Array;
  /** The document's timestamp, milliseconds since the epoch. */
  readonly at: number;
}

export type NitroChainOutcome =
  | { readonly ok: true; readonly leaf: X509Certificate }
  | { readonly ok: false; readonly problem: string };

const HANDLED_CRITICAL_EXTENSIONS: ReadonlySet<string> = new Set([
  BASIC_CONSTRAINTS_OID,
  KEY_USAGE_OID,
]);

/** A second, in milliseconds: notAfter names the last valid second, inclusive. */
const SECOND_MS = 1000;

interface ChainCertificate {
  /** Where the certificate came from, for problems: `certificate` or `cabundle[i]`. */
  readonly name: string;
  readonly x509: X509Certificate;
  readonly facts: CertificateFacts;
}

/** Verifies the chain leaf -> cabundle (reversed) -> pinned root at `input.at`. Never throws. */
export function verifyNitroCertificateChain(input: NitroChainInput): NitroChainOutcome {
  try {
    return verifyChain(input);
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : "unknown error";
    return { ok: false, problem: `certificate chain: ${message}` };
  }
}

function verifyChain(input: NitroChainInput): NitroChainOutcome {
  const refuse = (problem: string): NitroChainOutcome => ({
    ok: false,
    problem: `certificate chain: ${problem}`,
  });
  const [bundleRoot] = input.cabundle;
  if (bundleRoot === undefined) return refuse("cabundle is empty");
  if (Buffer.compare(Buffer.from(bundleRoot), Buffer.from(input.root)) !== 0) {
    return refuse("cabundle[0] is not the pinned root");
  }

  // Leaf first, then issuers up to the root: cabundle[n-1], ..., cabundle[0].
  const chain: ChainCertificate[] = [];
  const leafOrProblem = parse(input.certificate, "certificate");
  if (typeof leafOrProblem === "string") return refuse(leafOrProblem);
  chain.push(leafOrProblem);
  for (let i = input.cabundle.length - 1; i >= 0; i--) {
    const parsed = parse(input.cabundle[i] ?? new Uint8Array(), `cabundle[${i}]`);
    if (typeof parsed === "string") return refuse(parsed);
    chain.push(parsed);
  }

  // Each certificate on its own first, so a refusal names the broken property rather
  // than the link that OpenSSL's issuer check would then reject.
  for (const [position, certificate] of chain.entries()) {
    const problem = checkCertificate(certificate, position, input.at);
    if (problem !== undefined) return refuse(problem);
  }
  // Links from the pinned root down: a key signs nothing here before its own
  // certificate has been verified up to the root.
  for (let position = chain.length - 2; position >= 0; position--) {
    const certificate = chain[position];
    const issuer = chain[position + 1];
    if (certificate === undefined || issuer === undefined) return refuse("broken chain");
    if (!certificate.x509.checkIssued(issuer.x509)) {
      return refuse(`${certificate.name} was not issued by ${issuer.name}`);
    }
    if (!certificate.x509.verify(issuer.x509.publicKey)) {
      return refuse(`${certificate.name}: signature does not verify with ${issuer.name}'s key`);
    }
  }

  const leaf = chain[0];
  if (leaf === undefined) return refuse("no leaf");
  const key = leaf.x509.publicKey;
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
    return refuse("certificate: key is not ECDSA P-384");
  }
  return { ok: true, leaf: leaf.x509 };
}

function parse(der: Uint8Array, name: string): ChainCertificate | string {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    return `${name}: not an X.509 certificate`;
  }
  // Node also takes PEM, and ignores bytes after the certificate: insist on exact DER.
  if (Buffer.compare(x509.raw, Buffer.from(der)) !== 0)
    return `${name}: not exactly one DER certificate`;
  try {
    return { name, x509, facts: readCertificateFacts(der) };
  } catch (error: unknown) {
    if (error instanceof DerError) return `${name}: ${error.message}`;
    throw error;
  }
}

/** The checks on one certificate at `position` (0 = leaf) in the chain; a problem or undefined. */
function checkCertificate(
  certificate: ChainCertificate,
  position: number,
  at: number,
): string | undefined {
  const { name, facts } = certificate;
  if (facts.signatureAlgorithm !== ECDSA_WITH_SHA384_OID) {
    return `${name}: signed with ${facts.signatureAlgorithm}, not ecdsa-with-SHA384`;
  }
  const unhandled = facts.criticalExtensions.find((oid) => !HANDLED_CRITICAL_EXTENSIONS.has(oid));
  if (unhandled !== undefined) return `${name}: unhandled critical extension ${unhandled}`;
  if (at < facts.notBefore) {
    return `${name}: not yet valid at the document's time (valid from ${iso(facts.notBefore)})`;
  }
  if (at >= facts.notAfter + SECOND_MS) {
    return `${name}: expired at the document's time (valid to ${iso(facts.notAfter)})`;
  }
  const constraints = facts.basicConstraints;
  if (position === 0) {
    if (constraints?.isCa === true) return `${name}: the signing certificate is a CA`;
    if (facts.keyUsage?.digitalSignature !== true) {
      return `${name}: key usage does not include digitalSignature`;
    }
    return undefined;
  }
  if (constraints?.isCa !== true) return `${name}: not a CA certificate`;
  if (facts.keyUsage?.keyCertSign !== true)
    return `${name}: key usage does not include keyCertSign`;
  // CA certificates below this one in the path (the leaf does not count).
  const casBelow = position - 1;
  if (constraints.pathLength !== undefined && casBelow > constraints.pathLength) {
    return `${name}: path length ${casBelow} exceeds its pathLenConstraint ${constraints.pathLength}`;
  }
  return undefined;
}

function iso(time: number): string {
  return new Date(time).toISOString();
}
