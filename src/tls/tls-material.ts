import { createSecureContext } from "node:tls";
import { x509 } from "../crypto/x509.js";
import type { ConfigProblem } from "../config/config-problem.js";

/** The PEM texts the listener is built from, checked to be usable. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly clientCAs: string;
  readonly crl: string | undefined;
}

/**
 * Splits a PEM file of CRLs into one string per CRL. Node's `crl` option reads only
 * the first CRL of a string: handed a concatenated file, it would silently drop
 * the others (and every client of those CAs would then fail).
 */
export function splitCrls(pem: string): string[] {
  return pem.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g) ?? [];
}

function splitPem(pem: string): ArrayBuffer[] {
  try {
    return x509.PemConverter.decode(pem);
  } catch {
    return [];
  }
}

/**
 * Checks the client trust anchors. Fails closed: a clientCAs file that holds no
 * usable CA certificate is a config problem, never an open door (the class of
 * Caddy CVE-2026-27586, where an unloadable CA file disabled client verification).
 */
function checkClientCAs(
  pem: string,
  path: string,
): { cas: x509.X509Certificate[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const cas: x509.X509Certificate[] = [];
  const blocks = splitPem(pem);
  if (blocks.length === 0) {
    return { cas, problems: [{ path, message: "holds no PEM certificate" }] };
  }
  blocks.forEach((der, i) => {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(der);
    } catch {
      problems.push({ path, message: `certificate #${i + 1} cannot be parsed` });
      return;
    }
    const constraints = cert.getExtension(x509.BasicConstraintsExtension);
    if (constraints?.ca !== true) {
      problems.push({
        path,
        message: `certificate #${i + 1} (${cert.subject}) is not a CA certificate`,
      });
      return;
    }
    cas.push(cert);
  });
  return { cas, problems };
}

/**
 * Checks the CRL file: each CRL parses, a CRL naming a client CA is signed by it,
 * and every client CA has one. Node turns on CRL checking for the whole chain when a
 * CRL is given, so a CA without a CRL would make every one of its clients fail
 * with "unable to get certificate CRL": better said here, at load time.
 */
async function checkCrls(
  pem: string,
  cas: readonly x509.X509Certificate[],
  now: Date,
  path: string,
): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const blocks = splitPem(pem);
  if (blocks.length === 0) return [{ path, message: "holds no PEM CRL" }];
  const covered = new Set<x509.X509Certificate>();
  for (const [i, der] of blocks.entries()) {
    let crl: x509.X509Crl;
    try {
      crl = new x509.X509Crl(der);
    } catch {
      problems.push({ path, message: `CRL #${i + 1} cannot be parsed` });
      continue;
    }
    const named = cas.filter((ca) => ca.subject === crl.issuer);
    // A CRL from an issuer outside clientCAs is an intermediate CA's: OpenSSL checks
    // its signature against the chain the client sends, at each handshake.
    let signer: x509.X509Certificate | undefined;
    for (const ca of named)
      if (signer === undefined && (await crl.verify({ publicKey: ca }))) signer = ca;
    if (named.length > 0 && signer === undefined) {
      problems.push({ path, message: `CRL #${i + 1} (${crl.issuer}) has a bad signature` });
      continue;
    }
    if (crl.nextUpdate !== undefined && crl.nextUpdate < now) {
      problems.push({
        path,
        message: `CRL #${i + 1} (${crl.issuer}) expired at ${crl.nextUpdate.toISOString()}: every client of that CA would be refused`,
      });
    }
    if (signer !== undefined) covered.add(signer);
  }
  for (const ca of cas) {
    if (!covered.has(ca)) problems.push({ path, message: `no CRL for client CA "${ca.subject}"` });
  }
  return problems;
}

/**
 * Validates the listener's certificates as a whole: client CAs, CRLs, and that
 * OpenSSL accepts the certificate, key, CAs and CRLs together (a key that does not
 * match its certificate is reported here, not at the first handshake).
 */
export async function checkTlsMaterial(material: TlsMaterial, now: Date): Promise<ConfigProblem[]> {
  const { cas, problems } = checkClientCAs(material.clientCAs, "tls.clientCAs");
  if (material.crl !== undefined && cas.length > 0) {
    problems.push(...(await checkCrls(material.crl, cas, now, "tls.crl")));
  }
  if (problems.length > 0) return problems;
  try {
    createSecureContext({
      cert: material.cert,
      key: material.key,
      ca: material.clientCAs,
      ...(material.crl === undefined ? {} : { crl: splitCrls(material.crl) }),
    });
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    problems.push({
      path: "tls",
      message: `OpenSSL refuses the certificate, key, CAs or CRL: ${message}`,
    });
  }
  return problems;
}
