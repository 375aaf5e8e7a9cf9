/**
 * Certificate chains up to a pinned root, the way Intel's DCAP PKI is shaped: a leaf,
 * at most one CA under the root, the root itself optional at the end (and then equal to
 * the pinned root byte for byte). Names are checked too, so one kind of Intel key cannot
 * stand in for another: a TCB signing certificate is not a PCK CA, a PCK certificate
 * does not sign TCB info.
 */
import { X509Certificate, createHash } from "node:crypto";
import { parsePemCertificates } from "./pem-certificates.js";

/** The trust anchor: the pinned Intel SGX Root CA, or a configured override. */
export interface TrustedRoot {
  readonly certificate: X509Certificate;
  readonly der: Buffer;
  /** SHA-256 of the DER, lowercase hex. */
  readonly sha256: string;
}

/** What a chain must look like. */
export interface ChainShape {
  /** Used in problems: "PCK certificate chain". */
  readonly what: string;
  /** The leaf's subject CN must be one of these. */
  readonly leafNames: readonly string[];
  /** Whether the leaf is itself a CA (a CRL issuer checked on its own) or must not be. */
  readonly isLeafCa: boolean;
  /** The CA between leaf and root: its CN must be one of these; undefined: the root issues the leaf. */
  readonly caNames: readonly string[] | undefined;
}

/** A chain whose signatures, names and CA flags were checked up to the root (root excluded). */
export type ChainCheck =
  | { readonly ok: true; readonly certificates: readonly X509Certificate[] }
  | { readonly ok: false; readonly problem: string };

/** Reads a root PEM (exactly one self-signed CA certificate). Never throws. */
export function loadTrustedRoot(
  pem: string,
): { ok: true; root: TrustedRoot } | { ok: false; problem: string } {
  const parsed = parsePemCertificates(pem, "root", 1);
  if (!parsed.ok) return parsed;
  const der = parsed.certificates[0] ?? Buffer.alloc(0);
  const certificate = new X509Certificate(der);
  if (!certificate.ca) return { ok: false, problem: "root: not a CA certificate" };
  if (!isSignedBy(certificate, certificate) || certificate.subject !== certificate.issuer) {
    return { ok: false, problem: "root: not self-signed" };
  }
  const sha256 = createHash("sha256").update(der).digest("hex");
  return { ok: true, root: { certificate, der, sha256 } };
}

/**
 * Checks a chain (DER, leaf first) up to `root`: each certificate issued and signed by
 * the next, the last by the root, CA flags where they belong, subject names as `shape`
 * says. Time is not checked here (see `findExpired`): collateral chains are checked once
 * at load and their validity at every use.
 */
export function verifyChainToRoot(
  chain: readonly Buffer[],
  root: TrustedRoot,
  shape: ChainShape,
): ChainCheck {
  const { what } = shape;
  const certificates: X509Certificate[] = [];
  for (const [index, der] of chain.entries()) {
    try {
      certificates.push(new X509Certificate(der));
    } catch {
      return { ok: false, problem: `${what}: certificate ${index} is not X.509` };
    }
  }
  const last = certificates[certificates.length - 1];
  if (last !== undefined && last.subject === last.issuer) {
    // A self-issued certificate ends the chain: it must be the pinned root itself.
    if (!last.raw.equals(root.der)) {
      return { ok: false, problem: `${what}: ends in a root other than the trusted root` };
    }
    certificates.pop();
  }
  const expected = shape.caNames === undefined ? 1 : 2;
  if (certificates.length !== expected) {
    return {
      ok: false,
      problem: `${what}: expected ${expected} certificate(s) below the root, found ${certificates.length}`,
    };
  }
  const [leaf, ca] = certificates;
  if (leaf === undefined) return { ok: false, problem: `${what}: empty` };
  if (leaf.ca !== shape.isLeafCa) {
    return {
      ok: false,
      problem: `${what}: "${commonName(leaf)}" ${leaf.ca ? "is" : "is not"} a CA certificate`,
    };
  }
  if (!shape.leafNames.includes(commonName(leaf))) {
    return { ok: false, problem: `${what}: unexpected leaf "${commonName(leaf)}"` };
  }
  let issuer = root.certificate;
  if (ca !== undefined) {
    if (!ca.ca) return { ok: false, problem: `${what}: the intermediate is not a CA certificate` };
    if (!(shape.caNames ?? []).includes(commonName(ca))) {
      return { ok: false, problem: `${what}: unexpected intermediate "${commonName(ca)}"` };
    }
    if (!isSignedBy(ca, root.certificate)) {
      return {
        ok: false,
        problem: `${what}: "${commonName(ca)}" is not issued by the trusted root`,
      };
    }
    issuer = ca;
  }
  if (!isSignedBy(leaf, issuer)) {
    return {
      ok: false,
      problem: `${what}: "${commonName(leaf)}" is not issued by "${commonName(issuer)}"`,
    };
  }
  return { ok: true, certificates };
}

/**
 * For certificate sets given in configuration (issuer chains, in whatever order a file
 * holds them): drops copies of the trusted root and refuses any other self-issued
 * certificate; returns the rest in their order.
 */
export function withoutTrustedRoot(
  certificates: readonly Buffer[],
  root: TrustedRoot,
  what: string,
): { ok: true; certificates: readonly Buffer[] } | { ok: false; problem: string } {
  const rest: Buffer[] = [];
  for (const der of certificates) {
    if (der.equals(root.der)) continue;
    const certificate = new X509Certificate(der);
    if (certificate.subject === certificate.issuer) {
      return { ok: false, problem: `${what}: holds a root other than the trusted root` };
    }
    rest.push(der);
  }
  return { ok: true, certificates: rest };
}

/** The first certificate not valid at `now` (ms), as a problem; undefined when all are. */
export function findExpired(
  certificates: readonly X509Certificate[],
  now: number,
  what: string,
): string | undefined {
  for (const certificate of certificates) {
    const notBefore = Date.parse(certificate.validFrom);
    const notAfter = Date.parse(certificate.validTo);
    const name = commonName(certificate);
    if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) {
      return `${what}: "${name}" has an unreadable validity period`;
    }
    if (now < notBefore) {
      return `${what}: "${name}" is not valid before ${new Date(notBefore).toISOString()}`;
    }
    if (now > notAfter) {
      return `${what}: "${name}" expired at ${new Date(notAfter).toISOString()}`;
    }
  }
  return undefined;
}

/** The subject's CN (the last one, as OpenSSL prints it), or "" when there is none. */
export function commonName(certificate: X509Certificate): string {
  const lines = certificate.subject.split("\n").filter((line) => line.startsWith("CN="));
  return lines[lines.length - 1]?.slice(3) ?? "";
}

function isSignedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
