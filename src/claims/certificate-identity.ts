import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { x509 } from "../crypto/x509.js";
import type { IdentityClaims } from "./claims.js";

const CLIENT_AUTH_EKU = "1.3.6.1.5.5.7.3.2";
// C0 controls, DEL and C1 controls: none belongs in a name that may reach a log line or a header.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// SPIFFE ID: spiffe://trust-domain/path, trust domain and path in the SPIFFE spec's character sets.
const SPIFFE_ID = /^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export type CertificateIdentityResult =
  | { readonly ok: true; readonly identity: IdentityClaims }
  | {
      readonly ok: false;
      readonly reason: "client-certificate-malformed" | "client-certificate-wrong-purpose";
      readonly detail: string;
    };

export interface CertificateIdentityOptions {
  /** Accept a certificate without an extendedKeyUsage extension (OpenSSL does; verigate does not by default). */
  readonly allowMissingEku: boolean;
}

class MalformedCertificate extends Error {}

function checkText(value: string, what: string): string {
  if (CONTROL_CHARACTER.test(value))
    throw new MalformedCertificate(`${what} holds a control character`);
  return value;
}

function namesOf(cert: x509.X509Certificate, type: "dns" | "email" | "url"): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (san === null) return [];
  const values = san.names.items
    .filter((name) => name.type === type)
    .map((name) => checkText(name.value, `a ${type} SAN`));
  return Object.freeze(values) as string[];
}

function checkName(name: x509.Name, what: string): void {
  for (const attribute of name.toJSON()) {
    for (const values of Object.values(attribute))
      values.forEach((value) => checkText(value, what));
  }
}

function spiffeIdOf(uris: readonly string[]): string | undefined {
  const spiffe = uris.filter((uri) => uri.toLowerCase().startsWith("spiffe:"));
  // An X.509-SVID carries exactly one URI SAN; two SPIFFE IDs would make the identity ambiguous.
  if (spiffe.length > 1) throw new MalformedCertificate("more than one SPIFFE ID");
  const [id] = spiffe;
  if (id !== undefined && !SPIFFE_ID.test(id))
    throw new MalformedCertificate("an invalid SPIFFE ID");
  return id;
}

function checkPurpose(
  cert: x509.X509Certificate,
  options: CertificateIdentityOptions,
): string | undefined {
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku === null)
    return options.allowMissingEku
      ? undefined
      : "no extendedKeyUsage extension (clientAuth required)";
  return eku.usages.map(String).includes(CLIENT_AUTH_EKU)
    ? undefined
    : "extendedKeyUsage lacks clientAuth";
}

/**
 * Turns a client certificate that OpenSSL already verified into identity claims.
 * Names are read by SAN type (never from a joined string), and any field with a
 * control character refuses the whole certificate: such bytes pass OpenSSL's
 * verification and @peculiar/x509 returns them raw.
 */
export function identityFromCertificate(
  der: Buffer,
  options: CertificateIdentityOptions,
): CertificateIdentityResult {
  // The result depends on the certificate's bytes and the option alone (validity and
  // revocation are OpenSSL's, per handshake): a client that reconnects is not parsed again.
  const fingerprint = createHash("sha256").update(der).digest("hex");
  const key = `${options.allowMissingEku ? 1 : 0}${fingerprint}`;
  let result = parsed.get(key);
  if (result === undefined) {
    result = parseIdentity(der, fingerprint, options);
    parsed.set(key, result);
  }
  return result;
}

/** The identity of a certificate, parsed every time (what a first connection costs; for benchmarks). */
export function parseCertificateIdentity(
  der: Buffer,
  options: CertificateIdentityOptions,
): CertificateIdentityResult {
  return parseIdentity(der, createHash("sha256").update(der).digest("hex"), options);
}

/** Parsed certificates, by fingerprint: a full parse costs about a millisecond. */
const parsed = new LRUCache<string, CertificateIdentityResult>({ max: 10_000 });

function parseIdentity(
  der: Buffer,
  fingerprint: string,
  options: CertificateIdentityOptions,
): CertificateIdentityResult {
  try {
    const cert = new x509.X509Certificate(new Uint8Array(der));
    const purposeProblem = checkPurpose(cert, options);
    if (purposeProblem !== undefined) {
      return { ok: false, reason: "client-certificate-wrong-purpose", detail: purposeProblem };
    }
    checkName(cert.subjectName, "the subject");
    checkName(cert.issuerName, "the issuer");
    const commonName = cert.subjectName.getField("CN")[0];
    const uris = namesOf(cert, "url");
    const spiffeId = spiffeIdOf(uris);
    const identity: IdentityClaims = {
      source: "certificate",
      subject: checkText(cert.subject, "the subject"),
      issuer: checkText(cert.issuer, "the issuer"),
      emails: namesOf(cert, "email"),
      dnsNames: namesOf(cert, "dns"),
      certFingerprint: fingerprint,
      ...(commonName === undefined ? {} : { commonName }),
      ...(spiffeId === undefined ? {} : { spiffeId }),
    };
    return { ok: true, identity: Object.freeze(identity) };
  } catch (error: unknown) {
    const detail =
      error instanceof MalformedCertificate ? error.message : "the certificate cannot be parsed";
    return { ok: false, reason: "client-certificate-malformed", detail };
  }
}
