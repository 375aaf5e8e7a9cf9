/**
 * The SEV-SNP certificate chain: VCEK -> ASK -> ARK, or VLEK -> ASVK -> ARK, every
 * link RSASSA-PSS SHA-384, ending at an ARK that is pinned (configured by value,
 * self-signed). The intermediate may be presented with the evidence or come from
 * the pinned bundle; the root never comes from the evidence: a presented ARK is
 * only accepted if it is byte for byte a pinned one, and even then the pinned copy
 * is what is used.
 */
import {
  CertificateFormatError,
  isIssuedBy,
  parseAmdCertificate,
  validityProblem,
  type AmdCertificate,
} from "./amd-certificate.js";
import { pemToDer } from "./amd-roots.js";
import {
  issuingCaCommonName,
  parseArkCommonName,
  parseIssuingCaCommonName,
  vekCommonName,
  type AmdProductLine,
  type VekKind,
} from "./product-line.js";

/** An intermediate CA already verified to be issued by `root`. */
export interface TrustedIntermediate {
  readonly ca: AmdCertificate;
  readonly root: AmdCertificate;
}

/** The pinned roots and the intermediates that chain to them, checked once at configuration. */
export interface SnpTrustStore {
  readonly roots: readonly AmdCertificate[];
  readonly intermediates: readonly TrustedIntermediate[];
}

/** What the chain must lead to: the product line and key kind the report and VEK claim. */
export interface ExpectedChain {
  readonly line: AmdProductLine;
  readonly kind: VekKind;
}

/** The verified chain above the VEK, or why there is none. */
export type ChainOutcome =
  | { readonly ok: true; readonly issuer: AmdCertificate; readonly root: AmdCertificate }
  | { readonly ok: false; readonly problem: string };

/** Extensions a chain certificate may mark critical; any other critical one is refused (RFC 5280). */
const UNDERSTOOD_CRITICAL_EXTENSIONS = new Set(["2.5.29.19", "2.5.29.15"]);

/**
 * Builds the trust store; throws (a configuration error) when a root is not a
 * self-signed AMD-named ARK or a configured intermediate chains to no root.
 * `pinnedIntermediates` that chain to none of `roots` are dropped silently: with
 * roots overridden, the shipped ASKs simply have nothing to chain to.
 */
export function createSnpTrustStore(
  rootPems: readonly string[],
  pinnedIntermediatePems: readonly string[],
  configuredIntermediatePems: readonly string[],
): SnpTrustStore {
  if (rootPems.length === 0) throw new Error("sev-snp: at least one root (ARK) is required");
  const roots = rootPems.map((pem, i) => {
    const root = parseConfigured(pem, `roots[${i}]`);
    if (!root.isCa || parseArkCommonName(root.subjectCommonName ?? "") === undefined) {
      throw new Error(
        `sev-snp: roots[${i}] is not an AMD root key certificate (CN=ARK-<product line>, CA)`,
      );
    }
    if (!isIssuedBy(root, root)) {
      throw new Error(
        `sev-snp: roots[${i}] (${root.subjectCommonName ?? ""}) is not self-signed with RSASSA-PSS SHA-384`,
      );
    }
    return root;
  });
  const intermediates: TrustedIntermediate[] = [];
  const add = (pem: string, where: string, isRequired: boolean): void => {
    const ca = parseConfigured(pem, where);
    if (!ca.isCa || parseIssuingCaCommonName(ca.subjectCommonName ?? "") === undefined) {
      throw new Error(
        `sev-snp: ${where} is not an AMD ASK or ASVK (CN=SEV-<line> or SEV-VLEK-<line>, CA)`,
      );
    }
    const root = roots.find((candidate) => isIssuedBy(ca, candidate));
    if (root !== undefined) intermediates.push({ ca, root });
    else if (isRequired)
      throw new Error(
        `sev-snp: ${where} (${ca.subjectCommonName ?? ""}) is not issued by any configured root`,
      );
  };
  pinnedIntermediatePems.forEach((pem, i) => add(pem, `pinned intermediate ${i}`, false));
  configuredIntermediatePems.forEach((pem, i) => add(pem, `intermediates[${i}]`, true));
  return { roots, intermediates };
}

function parseConfigured(pem: string, where: string): AmdCertificate {
  try {
    return parseAmdCertificate(pemToDer(pem));
  } catch (e: unknown) {
    const reason =
      e instanceof CertificateFormatError || e instanceof Error ? e.message : "unreadable";
    throw new Error(`sev-snp: ${where}: ${reason}`, { cause: e });
  }
}

/**
 * Verifies `vek` up to a pinned root at `now`. `presented` are the other
 * certificates sent with the evidence (an ASK/ASVK, perhaps an ARK).
 */
export function verifyVekChain(
  vek: AmdCertificate,
  presented: readonly AmdCertificate[],
  expected: ExpectedChain,
  store: SnpTrustStore,
  now: number,
): ChainOutcome {
  const vekName = vekCommonName(expected.kind);
  const caName = issuingCaCommonName(expected.line, expected.kind);
  if (vek.isCa) return refuse(`${vekName} certificate is a CA certificate`);
  if (vek.issuerCommonName !== caName) {
    return refuse(
      `${vekName} is issued by ${describeName(vek.issuerCommonName)}, but a ${expected.line} ${vekName} is issued by CN=${caName}`,
    );
  }

  const candidates: TrustedIntermediate[] = [];
  for (const cert of presented) {
    if (isSameName(cert.subjectName, cert.issuerName)) {
      // A presented root proves nothing; refuse one that is not pinned rather than ignore it.
      if (!store.roots.some((root) => root.der.equals(cert.der))) {
        return refuse(
          `presented root ${describeName(cert.subjectCommonName)} (sha256 ${cert.fingerprint}) is not a pinned ARK`,
        );
      }
      continue;
    }
    if (!isSameName(cert.subjectName, vek.issuerName)) continue;
    const root = cert.isCa
      ? store.roots.find((candidate) => isIssuedBy(cert, candidate))
      : undefined;
    if (root === undefined) {
      return refuse(
        `presented CN=${caName} (sha256 ${cert.fingerprint}) is not issued by a pinned ARK`,
      );
    }
    candidates.push({ ca: cert, root });
  }
  candidates.push(
    ...store.intermediates.filter((t) => isSameName(t.ca.subjectName, vek.issuerName)),
  );
  if (candidates.length === 0) {
    return refuse(`no CN=${caName} that chains to a pinned ARK was presented or pinned`);
  }
  if (!vek.isSignedWithRsaPssSha384) {
    return refuse(`${vekName} is not signed with RSASSA-PSS SHA-384 (salt 48)`);
  }
  const link = candidates.find((candidate) => isIssuedBy(vek, candidate.ca));
  if (link === undefined)
    return refuse(`${vekName} signature does not verify with the key of CN=${caName}`);

  for (const [cert, what] of [
    [vek, vekName],
    [link.ca, `CN=${caName}`],
    [link.root, `root ${describeName(link.root.subjectCommonName)}`],
  ] as const) {
    const critical = [...cert.extensions].find(
      ([oid, extension]) => extension.critical && !UNDERSTOOD_CRITICAL_EXTENSIONS.has(oid),
    );
    if (critical !== undefined)
      return refuse(`${what} has an unknown critical extension ${critical[0]}`);
    const problem = validityProblem(cert, now, what);
    if (problem !== undefined) return refuse(problem);
  }
  return { ok: true, issuer: link.ca, root: link.root };
}

function isSameName(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function describeName(commonName: string | undefined): string {
  return commonName === undefined ? "a certificate without one common name" : `CN=${commonName}`;
}

function refuse(problem: string): ChainOutcome {
  return { ok: false, problem };
}
