/**
 * DCAP collateral for TDX: the signed TCB info (one per FMSPC) and TD QE identity, the
 * certificate chain that signed them, and the PCS revocation lists. It is loaded and its
 * signatures verified once, when the configuration loads (collateral is never fetched on the
 * request path); what depends on the time (nextUpdate, certificate validity) is checked at
 * every use, against the verifier's clock.
 *
 * Signatures are verified over the exact bytes Intel signed (see `signed-json.ts`), with a
 * TCB signing certificate issued directly by the trusted root and not revoked by the root
 * CA CRL; the PCK CRLs must be signed by a PCK CA issued by that root. Only
 * `loadTdxCollateral` makes a `TdxCollateral`, and a verifier accepts only one made for its
 * own root.
 */
import type { X509Certificate } from "node:crypto";
import {
  commonName,
  findExpired,
  loadTrustedRoot,
  verifyChainToRoot,
  withoutTrustedRoot,
  type TrustedRoot,
} from "./certificate-chain.js";
import { readCertificateNames } from "./certificate-names.js";
import { verifyP256 } from "./ecdsa-p256.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./intel-root.js";
import { CollateralFormatError } from "./json-fields.js";
import { parsePemCertificates } from "./pem-certificates.js";
import { type QeIdentity, parseQeIdentity } from "./qe-identity.js";
import {
  type CrlSource,
  type RevocationList,
  findStaleCrl,
  isCrlSignedBy,
  parseRevocationList,
} from "./revocation-list.js";
import { type SignedJsonSource, readSignedJson } from "./signed-json.js";
import { type TdxTcbInfo, parseTdxTcbInfo } from "./tcb-info.js";

/** How CRLs and signed documents may be given (re-exported for the config loader). */
export type { CrlSource } from "./revocation-list.js";
export type { SignedJsonSource } from "./signed-json.js";

/** The CNs of Intel's PCK CAs (directly under the root). */
export const INTEL_PCK_CA_NAMES: readonly string[] = Object.freeze([
  "Intel SGX PCK Platform CA",
  "Intel SGX PCK Processor CA",
]);
/** The CN of Intel's PCK certificates. */
export const INTEL_PCK_LEAF_NAMES: readonly string[] = Object.freeze(["Intel SGX PCK Certificate"]);
/** The CN of the certificate that signs TCB info and QE identities (directly under the root). */
export const INTEL_TCB_SIGNING_NAMES: readonly string[] = Object.freeze(["Intel SGX TCB Signing"]);

/**
 * Collateral as read from files: PCS response bodies as text, issuer chains as the PEM
 * Intel sends in the `TCB-Info-Issuer-Chain`, `SGX-Enclave-Identity-Issuer-Chain` and
 * `SGX-PCK-CRL-Issuer-Chain` headers (URL-decoded), CRLs as DER bytes or PEM text.
 */
export interface TdxCollateralSources {
  /** `GET /tdx/certification/v4/tcb?fmspc=...` bodies, one per FMSPC served. */
  readonly tcbInfo: SignedJsonSource | readonly SignedJsonSource[];
  readonly tcbInfoIssuerChain: string;
  /** `GET /tdx/certification/v4/qe/identity` body. */
  readonly qeIdentity: SignedJsonSource;
  readonly qeIdentityIssuerChain: string;
  /** `GET /sgx/certification/v4/pckcrl?ca=platform` (and `ca=processor`) bodies. */
  readonly pckCrl: CrlSource | readonly CrlSource[];
  /** The PCK CA certificate(s) that issued `pckCrl`, optionally followed by the root. */
  readonly pckCrlIssuerChain: string;
  /** The Intel SGX Root CA's CRL (it lists revoked PCK CAs and TCB signing certificates). */
  readonly rootCaCrl: CrlSource;
}

/** A PCK CRL and the public key (SPKI DER) of the CA whose signature on it verified. */
export interface VerifiedPckCrl {
  readonly crl: RevocationList;
  readonly signerSpki: Buffer;
}

/** Verified collateral. Only `loadTdxCollateral` makes one. */
export interface TdxCollateral {
  /** SHA-256 of the root every signature here chains to. */
  readonly rootSha256: string;
  /** TCB info by FMSPC (lowercase hex). */
  readonly tcbInfos: ReadonlyMap<string, TdxTcbInfo>;
  readonly qeIdentity: QeIdentity;
  /** The TCB signing certificates (their validity is checked at every use). */
  readonly signingCertificates: readonly X509Certificate[];
  readonly pckCrls: readonly VerifiedPckCrl[];
  readonly rootCaCrl: RevocationList;
}

/** How `loadTdxCollateral` checks. */
export interface LoadTdxCollateralOptions {
  /** PEM of the root to verify against; default the pinned Intel SGX Root CA. */
  readonly root?: string;
  /** When given, collateral that is stale or not yet valid at this time (ms) is a problem too. */
  readonly now?: number;
}

/** Loaded collateral, or every problem found in it. */
export type TdxCollateralLoad =
  | { readonly ok: true; readonly collateral: TdxCollateral }
  | { readonly ok: false; readonly problems: readonly string[] };

const genuine = new WeakSet<TdxCollateral>();

/** True for collateral `loadTdxCollateral` made (not a look-alike object). */
export function isLoadedTdxCollateral(collateral: TdxCollateral): boolean {
  return genuine.has(collateral);
}

/**
 * Parses and verifies collateral, reporting every problem found. Never throws.
 */
export function loadTdxCollateral(
  sources: TdxCollateralSources,
  options: LoadTdxCollateralOptions = {},
): TdxCollateralLoad {
  const problems: string[] = [];
  try {
    const rootLoad = loadTrustedRoot(options.root ?? INTEL_SGX_ROOT_CA_PEM);
    if (!rootLoad.ok) return { ok: false, problems: [rootLoad.problem] };
    const root = rootLoad.root;
    const rootNames = readCertificateNames(root.der);

    const rootCrl = parseRevocationList(sources.rootCaCrl, "root CA CRL");
    if (!rootCrl.ok) return { ok: false, problems: [rootCrl.problem] };
    if (
      !rootCrl.crl.issuer.equals(rootNames.subject) ||
      !isCrlSignedBy(rootCrl.crl, root.certificate.publicKey)
    ) {
      return { ok: false, problems: ["root CA CRL: not signed by the trusted root"] };
    }
    const rootCaCrl = rootCrl.crl;

    const tcbSigner = loadSigner(
      sources.tcbInfoIssuerChain,
      "TCB info issuer chain",
      root,
      rootCaCrl,
      problems,
    );
    const qeSigner = loadSigner(
      sources.qeIdentityIssuerChain,
      "QE identity issuer chain",
      root,
      rootCaCrl,
      problems,
    );

    const tcbInfos = new Map<string, TdxTcbInfo>();
    for (const [index, source] of asList(sources.tcbInfo).entries()) {
      if (tcbSigner === undefined) break;
      const info = readSignedDocument(
        source,
        "tcbInfo",
        tcbSigner,
        parseTdxTcbInfo,
        problems,
        `TCB info ${index}`,
      );
      if (info === undefined) continue;
      const fmspc = info.fmspc.toString("hex");
      if (tcbInfos.has(fmspc))
        problems.push(`TCB info ${index}: a second TCB info for FMSPC ${fmspc}`);
      else tcbInfos.set(fmspc, info);
    }
    const qeIdentity =
      qeSigner === undefined
        ? undefined
        : readSignedDocument(
            sources.qeIdentity,
            "enclaveIdentity",
            qeSigner,
            parseQeIdentity,
            problems,
            "QE identity",
          );

    const pckCrls = loadPckCrls(sources, root, rootCaCrl, problems);

    if (
      problems.length > 0 ||
      tcbSigner === undefined ||
      qeSigner === undefined ||
      qeIdentity === undefined
    ) {
      return { ok: false, problems };
    }
    const collateral: TdxCollateral = Object.freeze({
      rootSha256: root.sha256,
      tcbInfos,
      qeIdentity,
      signingCertificates: [tcbSigner, qeSigner],
      pckCrls,
      rootCaCrl,
    });
    if (options.now !== undefined) {
      const stale = findStaleCollateral(collateral, options.now);
      if (stale.length > 0) return { ok: false, problems: stale };
    }
    genuine.add(collateral);
    return { ok: true, collateral };
  } catch (e: unknown) {
    return {
      ok: false,
      problems: [...problems, `collateral: ${e instanceof Error ? e.message : String(e)}`],
    };
  }
}

/**
 * Everything in the collateral that is not current at `now`: TCB infos and the QE identity
 * past nextUpdate (or before issueDate), expired signing certificates, stale CRLs.
 */
export function findStaleCollateral(collateral: TdxCollateral, now: number): string[] {
  const problems: string[] = [];
  for (const [fmspc, info] of collateral.tcbInfos) {
    const stale = findStaleDocument(info, now, `TCB info for FMSPC ${fmspc}`);
    if (stale !== undefined) problems.push(stale);
  }
  const qe = findStaleDocument(collateral.qeIdentity, now, "QE identity");
  if (qe !== undefined) problems.push(qe);
  const certificate = findExpired(
    collateral.signingCertificates,
    now,
    "collateral signing certificate",
  );
  if (certificate !== undefined) problems.push(certificate);
  const rootCrl = findStaleCrl(collateral.rootCaCrl, now, "root CA CRL");
  if (rootCrl !== undefined) problems.push(rootCrl);
  for (const [index, { crl }] of collateral.pckCrls.entries()) {
    const stale = findStaleCrl(crl, now, `PCK CRL ${index}`);
    if (stale !== undefined) problems.push(stale);
  }
  return problems;
}

/** Why a signed document is not current at `now`, or undefined. */
export function findStaleDocument(
  document: { readonly issueDate: number; readonly nextUpdate: number },
  now: number,
  what: string,
): string | undefined {
  if (now < document.issueDate) {
    return `${what}: issued in the future (${new Date(document.issueDate).toISOString()})`;
  }
  if (now > document.nextUpdate) {
    return `${what}: expired at ${new Date(document.nextUpdate).toISOString()} (nextUpdate)`;
  }
  return undefined;
}

function loadSigner(
  pem: string,
  what: string,
  root: TrustedRoot,
  rootCaCrl: RevocationList,
  problems: string[],
): X509Certificate | undefined {
  const parsed = parsePemCertificates(pem, what, 2);
  if (!parsed.ok) {
    problems.push(parsed.problem);
    return undefined;
  }
  const ordered = withoutTrustedRoot(parsed.certificates, root, what);
  if (!ordered.ok) {
    problems.push(ordered.problem);
    return undefined;
  }
  const chain = verifyChainToRoot(ordered.certificates, root, {
    what,
    leafNames: INTEL_TCB_SIGNING_NAMES,
    isLeafCa: false,
    caNames: undefined,
  });
  if (!chain.ok) {
    problems.push(chain.problem);
    return undefined;
  }
  const [signer] = chain.certificates;
  if (signer === undefined) return undefined;
  if (rootCaCrl.revokedSerials.has(readCertificateNames(signer.raw).serial)) {
    problems.push(`${what}: "${commonName(signer)}" is revoked by the root CA CRL`);
    return undefined;
  }
  return signer;
}

function readSignedDocument<T>(
  source: SignedJsonSource,
  member: string,
  signer: X509Certificate,
  parse: (document: unknown) => T,
  problems: string[],
  what: string,
): T | undefined {
  const read = readSignedJson(source, member);
  if (!read.ok) {
    problems.push(`${what}: ${read.problem}`);
    return undefined;
  }
  const { signedText, signature, document } = read.signed;
  if (!verifyP256(Buffer.from(signedText, "utf8"), signature, signer.publicKey)) {
    problems.push(`${what}: signature does not verify over the signed ${member} bytes`);
    return undefined;
  }
  try {
    return parse(document);
  } catch (e: unknown) {
    if (e instanceof CollateralFormatError) {
      problems.push(`${what}: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}

function loadPckCrls(
  sources: TdxCollateralSources,
  root: TrustedRoot,
  rootCaCrl: RevocationList,
  problems: string[],
): VerifiedPckCrl[] {
  const issuers = parsePemCertificates(sources.pckCrlIssuerChain, "PCK CRL issuer chain", 3);
  if (!issuers.ok) {
    problems.push(issuers.problem);
    return [];
  }
  const withoutRoot = withoutTrustedRoot(issuers.certificates, root, "PCK CRL issuer chain");
  if (!withoutRoot.ok) {
    problems.push(withoutRoot.problem);
    return [];
  }
  const cas: X509Certificate[] = [];
  for (const der of withoutRoot.certificates) {
    // Each PCK CA stands under the root on its own: check it as a one-certificate chain.
    const chain = verifyChainToRoot([der], root, {
      what: "PCK CRL issuer chain",
      leafNames: INTEL_PCK_CA_NAMES,
      isLeafCa: true,
      caNames: undefined,
    });
    const ca = chain.ok ? chain.certificates[0] : undefined;
    if (!chain.ok || ca === undefined) {
      problems.push(chain.ok ? "PCK CRL issuer chain: empty" : chain.problem);
      continue;
    }
    if (rootCaCrl.revokedSerials.has(readCertificateNames(der).serial)) {
      problems.push(`PCK CRL issuer chain: "${commonName(ca)}" is revoked by the root CA CRL`);
      continue;
    }
    cas.push(ca);
  }
  const verified: VerifiedPckCrl[] = [];
  for (const [index, source] of asList(sources.pckCrl).entries()) {
    const parsed = parseRevocationList(source, `PCK CRL ${index}`);
    if (!parsed.ok) {
      problems.push(parsed.problem);
      continue;
    }
    const signer = cas.find(
      (ca) =>
        readCertificateNames(ca.raw).subject.equals(parsed.crl.issuer) &&
        isCrlSignedBy(parsed.crl, ca.publicKey),
    );
    if (signer === undefined) {
      problems.push(`PCK CRL ${index}: not signed by a PCK CA of the PCK CRL issuer chain`);
      continue;
    }
    verified.push({ crl: parsed.crl, signerSpki: spki(signer) });
  }
  return verified;
}

/** One item or a list of them, as a list (neither item type is an array). */
function asList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** The DER SubjectPublicKeyInfo of a certificate's key. */
export function spki(certificate: X509Certificate): Buffer {
  return certificate.publicKey.export({ type: "spki", format: "der" });
}
