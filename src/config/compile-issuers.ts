import { X509Certificate } from "node:crypto";
import type { VouchingIssuer } from "../claims/certificate-claims.js";
import { ATTESTATION_PROFILES } from "../claims/profiles/attestation-profiles.js";
import { compileGenericProfile } from "../claims/profiles/generic.js";
import type { AttestationProfile } from "../claims/profiles/attestation-profile.js";
import {
  checkJwks,
  localKeySource,
  remoteKeySource,
  type KeySource,
} from "../claims/tokens/key-source.js";
import type { EvidenceIssuer } from "../claims/evidence/evidence-issuer.js";
import type { TokenIssuer } from "../claims/tokens/token-issuer.js";
import { compileEvidenceIssuer } from "./compile-evidence-issuer.js";
import { TOKEN_ONLY_KEYS } from "./issuer-keys.js";
import type { ConfigFiles } from "./config-files.js";
import type { ConfigProblem } from "./config-problem.js";
import type { IssuerDocument, LimitsDocument } from "./schema.js";

/** The issuers of a config, compiled: CAs that vouch for certificate claims, token verifiers, evidence verifiers. */
export interface CompiledIssuers {
  readonly vouching: readonly VouchingIssuer[];
  readonly tokens: readonly TokenIssuer[];
  /** At most one per platform: the envelope's `platform` picks it. */
  readonly evidence: readonly EvidenceIssuer[];
}

const DEFAULT_HEADERS = {
  identity: "authorization",
  posture: "x-posture-token",
  attestation: "x-attestation-token",
} as const;

/** Headers an issuer may not claim: verigate's own, hop-by-hop, and the ones that frame or route requests. */
const RESERVED_HEADER =
  /^(x-verigate-.*|host|connection|keep-alive|te|trailer|transfer-encoding|upgrade|content-length|expect|cookie|x-forwarded-.*|forwarded)$/;

function parseCas(pem: string): X509Certificate[] | string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate";
  const cas: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      return `certificate #${i + 1} cannot be parsed`;
    }
    if (!cert.ca)
      return `certificate #${i + 1} (${cert.subject.replaceAll("\n", ", ")}) is not a CA certificate`;
    cas.push(cert);
  }
  return cas;
}

async function compileCaIssuer(
  doc: IssuerDocument,
  where: string,
  ca: string,
  files: ConfigFiles,
  problems: ConfigProblem[],
): Promise<VouchingIssuer | undefined> {
  for (const key of TOKEN_ONLY_KEYS) {
    if (doc[key] !== undefined)
      problems.push({ path: `${where}.${key}`, message: "only for token issuers (jwks)" });
  }
  if (doc.bindToClientCert || doc.requireNonce || doc.unsafeAllowAnyAudience) {
    problems.push({
      path: where,
      message:
        "bindToClientCert, requireNonce and unsafeAllowAnyAudience are only for token issuers (jwks)",
    });
  }
  if (doc.kind === "identity") {
    problems.push({
      path: `${where}.kind`,
      message:
        "identity from certificates comes from tls.clientCAs; an identity issuer verifies tokens (jwks)",
    });
  }
  const pem = await files.read(ca, `${where}.ca`);
  if (pem === undefined) return undefined;
  const cas = parseCas(pem);
  if (typeof cas === "string") {
    problems.push({ path: `${where}.ca`, message: cas });
    return undefined;
  }
  return { name: doc.name, kind: doc.kind, cas };
}

async function keySourceOf(
  doc: IssuerDocument,
  where: string,
  limits: LimitsDocument,
  files: ConfigFiles,
  problems: ConfigProblem[],
): Promise<KeySource | undefined> {
  const jwks = doc.jwks ?? {};
  if ((jwks.file === undefined) === (jwks.uri === undefined)) {
    problems.push({ path: `${where}.jwks`, message: "needs exactly one of file or uri" });
    return undefined;
  }
  if (jwks.uri !== undefined) {
    const remote = remoteKeySource(jwks.uri, limits.keyFetchTimeout);
    if (remote.problem !== undefined)
      problems.push({ path: `${where}.jwks.uri`, message: remote.problem });
    return remote.source;
  }
  const file = jwks.file as string;
  const text = await files.read(file, `${where}.jwks.file`);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    problems.push({ path: `${where}.jwks.file`, message: `"${file}" is not JSON` });
    return undefined;
  }
  const checked = checkJwks(value);
  if (checked.jwks === undefined) {
    problems.push({
      path: `${where}.jwks.file`,
      message: `"${file}" ${checked.problem ?? "is not a JWKS"}`,
    });
    return undefined;
  }
  return localKeySource(checked.jwks, file);
}

function profileOf(
  doc: IssuerDocument,
  where: string,
  problems: ConfigProblem[],
): AttestationProfile | undefined {
  if (doc.kind !== "attestation") {
    if (doc.profile !== undefined)
      problems.push({ path: `${where}.profile`, message: "only for attestation issuers" });
    if (doc.claims !== undefined)
      problems.push({
        path: `${where}.claims`,
        message: "only for attestation issuers with profile: generic",
      });
    return undefined;
  }
  if (doc.profile === undefined) {
    problems.push({
      path: `${where}.profile`,
      message:
        "is required for an attestation token issuer (azure-maa, intel-trust-authority, gcp-confidential-space, veraison-ear, generic)",
    });
    return undefined;
  }
  if (doc.profile !== "generic") {
    if (doc.claims !== undefined)
      problems.push({ path: `${where}.claims`, message: "only with profile: generic" });
    return ATTESTATION_PROFILES[doc.profile];
  }
  const generic = compileGenericProfile(doc.claims, `${where}.claims`);
  problems.push(...generic.problems);
  return generic.profile;
}

async function compileTokenIssuer(
  doc: IssuerDocument,
  where: string,
  limits: LimitsDocument,
  files: ConfigFiles,
  problems: ConfigProblem[],
): Promise<TokenIssuer | undefined> {
  const before = problems.length;
  if (doc.issuer === undefined)
    problems.push({ path: `${where}.issuer`, message: "is required: the token's iss" });
  if (doc.audience === undefined && !doc.unsafeAllowAnyAudience) {
    problems.push({
      path: `${where}.audience`,
      message:
        "is required (or set unsafeAllowAnyAudience: true, and bind tokens to the client certificate)",
    });
  }
  if (doc.audience !== undefined && doc.unsafeAllowAnyAudience) {
    problems.push({ path: `${where}.unsafeAllowAnyAudience`, message: "contradicts audience" });
  }
  if (doc.algorithms === undefined) {
    problems.push({
      path: `${where}.algorithms`,
      message: "is required: pin the issuer's signing algorithms (e.g. [RS256] or [ES256])",
    });
  }
  if (doc.groupsClaim !== undefined && doc.kind !== "identity") {
    problems.push({ path: `${where}.groupsClaim`, message: "only for identity issuers" });
  }
  const header = doc.header ?? DEFAULT_HEADERS[doc.kind];
  if (RESERVED_HEADER.test(header))
    problems.push({ path: `${where}.header`, message: `"${header}" is reserved` });
  const profile = profileOf(doc, where, problems);
  const keys = await keySourceOf(doc, where, limits, files, problems);
  if (
    problems.length > before ||
    keys === undefined ||
    doc.issuer === undefined ||
    doc.algorithms === undefined
  ) {
    return undefined;
  }
  return Object.freeze({
    name: doc.name,
    kind: doc.kind,
    header,
    keys,
    algorithms: Object.freeze([...doc.algorithms]),
    issuer: doc.issuer,
    audience: doc.audience,
    skewMs: doc.clockSkew ?? limits.clockSkew,
    maxAgeMs: doc.maxAge,
    bindToClientCert: doc.bindToClientCert,
    groupsClaim: doc.groupsClaim ?? "groups",
    profile,
    requireNonce: doc.requireNonce,
    nonceClaim: doc.nonceClaim,
  });
}

/**
 * Compiles `issuers:`. Each issuer has exactly one of `ca` (it vouches for
 * device.* or tee.* claims inside client certificates it issued) or `jwks` (it
 * signs tokens that arrive in `header`). Every problem is reported.
 */
export async function compileIssuers(
  docs: readonly IssuerDocument[],
  limits: LimitsDocument,
  files: ConfigFiles,
  now: number,
): Promise<{ issuers: CompiledIssuers; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = [];
  const vouching: VouchingIssuer[] = [];
  const tokens: TokenIssuer[] = [];
  const evidence: EvidenceIssuer[] = [];
  const names = new Set<string>();
  const headers = new Map<string, string>();
  for (const [i, doc] of docs.entries()) {
    const where = `issuers[${i}]`;
    if (names.has(doc.name))
      problems.push({ path: `${where}.name`, message: `duplicate issuer name "${doc.name}"` });
    names.add(doc.name);
    const sources = [doc.ca, doc.jwks, doc.evidence].filter(
      (source) => source !== undefined,
    ).length;
    if (sources !== 1) {
      problems.push({
        path: where,
        message:
          "needs exactly one of ca (claims in client certificates), jwks (signed tokens) or evidence (raw TEE evidence)",
      });
      continue;
    }
    if (doc.evidence !== undefined) {
      const issuer = await compileEvidenceIssuer(doc, where, files, problems, now);
      if (issuer === undefined) continue;
      if (evidence.some((other) => other.platform === issuer.platform)) {
        problems.push({
          path: `${where}.evidence`,
          message: `another issuer already verifies ${issuer.platform} evidence`,
        });
      }
      evidence.push(issuer);
      continue;
    }
    for (const key of ["roots", "collateral", "minimumTcb"] as const) {
      if (doc[key] !== undefined)
        problems.push({ path: `${where}.${key}`, message: "only for evidence issuers" });
    }
    if (doc.acceptSelfSignedCertificates) {
      problems.push({
        path: `${where}.acceptSelfSignedCertificates`,
        message: "only for evidence issuers",
      });
    }
    if (doc.ca !== undefined) {
      const issuer = await compileCaIssuer(doc, where, doc.ca, files, problems);
      if (issuer !== undefined) vouching.push(issuer);
      continue;
    }
    const issuer = await compileTokenIssuer(doc, where, limits, files, problems);
    if (issuer === undefined) continue;
    const other = headers.get(issuer.header);
    if (other !== undefined) {
      problems.push({
        path: `${where}.header`,
        message: `"${issuer.header}" is already the header of ${other}: give each token issuer its own`,
      });
    }
    headers.set(issuer.header, where);
    tokens.push(issuer);
  }
  return { issuers: { vouching, tokens, evidence }, problems };
}
