import type { EvidenceIssuer } from "../claims/evidence/evidence-issuer.js";
import type { EvidenceVerifier } from "../claims/evidence/evidence.js";
import { createNitroVerifier } from "../claims/evidence/nitro/nitro-verifier.js";
import { createSevSnpVerifier } from "../claims/evidence/sev-snp/sev-snp-verifier.js";
import { loadTdxCollateral } from "../claims/evidence/tdx/tdx-collateral.js";
import { createTdxVerifier } from "../claims/evidence/tdx/tdx-verifier.js";
import type { ConfigFiles } from "./config-files.js";
import type { ConfigProblem } from "./config-problem.js";
import { TOKEN_ONLY_KEYS } from "./issuer-keys.js";
import type { IssuerDocument } from "./schema.js";

async function readAll(
  paths: readonly string[],
  where: string,
  files: ConfigFiles,
): Promise<string[] | undefined> {
  const texts: string[] = [];
  for (const [i, path] of paths.entries()) {
    const text = await files.read(path, `${where}[${i}]`);
    if (text === undefined) return undefined;
    texts.push(text);
  }
  return texts;
}

/** A CRL file as the collateral loader takes it: PEM as text, DER as bytes. */
function asCrlSource(bytes: Buffer | undefined): Buffer | string | undefined {
  if (bytes === undefined) return undefined;
  const head = bytes.subarray(0, 64).toString("latin1").trimStart();
  return head.startsWith("-----BEGIN") ? bytes.toString("utf8") : bytes;
}

async function tdxVerifier(
  doc: IssuerDocument,
  where: string,
  roots: readonly string[] | undefined,
  files: ConfigFiles,
  problems: ConfigProblem[],
  now: number,
): Promise<EvidenceVerifier | undefined> {
  if (roots !== undefined && roots.length !== 1) {
    problems.push({
      path: `${where}.roots`,
      message: "tdx takes one root (the Intel SGX Root CA)",
    });
    return undefined;
  }
  const root = roots?.[0];
  const rootOption = root === undefined ? {} : { root };
  const paths = doc.collateral;
  if (paths === undefined) return createTdxVerifier(rootOption);
  const at = `${where}.collateral`;
  const [tcbInfo, tcbInfoIssuerChain, qeIdentity, qeIdentityIssuerChain, pckCrlIssuerChain] =
    await Promise.all([
      files.read(paths.tcbInfo, `${at}.tcbInfo`),
      files.read(paths.tcbInfoIssuerChain, `${at}.tcbInfoIssuerChain`),
      files.read(paths.qeIdentity, `${at}.qeIdentity`),
      files.read(paths.qeIdentityIssuerChain, `${at}.qeIdentityIssuerChain`),
      files.read(paths.pckCrlIssuerChain, `${at}.pckCrlIssuerChain`),
    ]);
  // CRLs come as DER (bytes) or PEM (text), as Intel's PCS serves them.
  const pckCrl = asCrlSource(await files.readBytes(paths.pckCrl, `${at}.pckCrl`));
  const rootCaCrl = asCrlSource(await files.readBytes(paths.rootCaCrl, `${at}.rootCaCrl`));
  if (
    tcbInfo === undefined ||
    tcbInfoIssuerChain === undefined ||
    qeIdentity === undefined ||
    qeIdentityIssuerChain === undefined ||
    pckCrlIssuerChain === undefined ||
    pckCrl === undefined ||
    rootCaCrl === undefined
  ) {
    return undefined;
  }
  const loaded = loadTdxCollateral(
    {
      tcbInfo,
      tcbInfoIssuerChain,
      qeIdentity,
      qeIdentityIssuerChain,
      pckCrl,
      pckCrlIssuerChain,
      rootCaCrl,
    },
    { ...rootOption, now },
  );
  if (!loaded.ok) {
    for (const problem of loaded.problems) problems.push({ path: at, message: problem });
    return undefined;
  }
  return createTdxVerifier({ ...rootOption, collateral: loaded.collateral });
}

/**
 * Compiles an attestation issuer that verifies raw evidence itself (`evidence:
 * sev-snp | tdx | nitro`), with the shipped vendor roots or the configured ones,
 * and TDX collateral read now: nothing is fetched on the request path.
 */
export async function compileEvidenceIssuer(
  doc: IssuerDocument,
  where: string,
  files: ConfigFiles,
  problems: ConfigProblem[],
  now: number,
): Promise<EvidenceIssuer | undefined> {
  const platform = doc.evidence;
  if (platform === undefined) return undefined;
  const before = problems.length;
  for (const key of TOKEN_ONLY_KEYS) {
    if (doc[key] !== undefined)
      problems.push({ path: `${where}.${key}`, message: "not for evidence issuers" });
  }
  if (doc.unsafeAllowAnyAudience)
    problems.push({ path: `${where}.unsafeAllowAnyAudience`, message: "not for evidence issuers" });
  if (doc.kind !== "attestation")
    problems.push({ path: `${where}.kind`, message: "evidence issuers are of kind attestation" });
  if (doc.collateral !== undefined && platform !== "tdx")
    problems.push({ path: `${where}.collateral`, message: "only for evidence: tdx" });
  if (doc.minimumTcb !== undefined && platform !== "sev-snp")
    problems.push({ path: `${where}.minimumTcb`, message: "only for evidence: sev-snp" });
  const roots =
    doc.roots === undefined ? undefined : await readAll(doc.roots, `${where}.roots`, files);
  if (problems.length > before || (doc.roots !== undefined && roots === undefined))
    return undefined;

  let verifier: EvidenceVerifier | undefined;
  try {
    verifier =
      platform === "sev-snp"
        ? createSevSnpVerifier(roots === undefined ? {} : { roots })
        : platform === "nitro"
          ? createNitroVerifier(roots?.[0] === undefined ? {} : { root: roots[0] })
          : await tdxVerifier(doc, where, roots, files, problems, now);
  } catch (error: unknown) {
    problems.push({
      path: `${where}.roots`,
      message: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
  if (verifier === undefined) return undefined;
  return Object.freeze({
    name: doc.name,
    platform,
    verifier,
    bindToClientCert: doc.bindToClientCert,
    requireNonce: doc.requireNonce,
    acceptSelfSignedCertificates: doc.acceptSelfSignedCertificates,
    minimumTcb: doc.minimumTcb,
  });
}
