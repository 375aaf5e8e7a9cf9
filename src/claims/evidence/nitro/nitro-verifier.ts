/**
 * Verifies AWS Nitro Enclaves attestation documents up to the pinned AWS Nitro root,
 * with no attestation service in between. In order, each step a refusal:
 * 1. the document is at most `MAX_NITRO_DOCUMENT_BYTES` and decodes strictly
 *    (COSE_Sign1 with alg ES384 only; every payload field typed and sized per AWS's
 *    specification; unknown fields, duplicate keys and indefinite lengths refused);
 * 2. its timestamp is not later than the verifier's clock plus `NITRO_CLOCK_SKEW_MS`
 *    (a document from the future would pass a naive freshness check for a long time);
 * 3. the certificate chain leads to the pinned root and every certificate in it is
 *    valid at the document's own timestamp (see `nitro-certificate-chain.ts`);
 * 4. the leaf certificate's key made the ES384 signature over the COSE Sig_structure.
 *
 * Signature-valid is not acceptable-to-policy: the result says whether the enclave ran
 * in debug mode (PCR0, PCR1 and PCR2 all zero: AWS zeroes them for an enclave started
 * with --debug-mode, so such a document cannot say which image runs), and how old the
 * document is is left to the caller (`producedAt`), as is the binding of `user_data`
 * and `nonce`.
 */
import { X509Certificate, verify } from "node:crypto";
import type {
  EvidenceInput,
  EvidenceOutcome,
  EvidenceVerifier,
  VerifiedEvidence,
} from "../evidence.js";
import { AWS_NITRO_ROOT_G1_PEM } from "./aws-nitro-root.js";
import { encodeSigStructure } from "./cose-sign1.js";
import { verifyNitroCertificateChain } from "./nitro-certificate-chain.js";
import { decodeNitroDocument, type UnverifiedNitroDocument } from "./nitro-document.js";

/** How far a document's timestamp may run ahead of the verifier's clock. */
export const NITRO_CLOCK_SKEW_MS = 5 * 60_000;

/** Options of `createNitroVerifier`. */
export interface NitroVerifierOptions {
  /**
   * The root to pin instead of AWS Nitro Enclaves Root G1: one PEM certificate. For
   * tests and non-commercial AWS partitions; `cabundle[0]` must equal it byte for byte.
   */
  readonly root?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/g;

/**
 * A Nitro `EvidenceVerifier`. `verify` never throws: every failure is
 * `{ ok: false, problem }`. Throws only here, when `options.root` is not exactly one
 * PEM certificate: a configuration error that must stop startup, not a request.
 */
export function createNitroVerifier(options: NitroVerifierOptions = {}): EvidenceVerifier {
  const root = readRootPem(options.root ?? AWS_NITRO_ROOT_G1_PEM);
  return {
    platform: "nitro",
    verify(input: EvidenceInput, now: number): Promise<EvidenceOutcome> {
      let outcome: EvidenceOutcome;
      try {
        outcome = verifyNitroEvidence(input, now, root);
      } catch (error: unknown) {
        // Fails closed: an unexpected exception is a refusal, never an allow.
        const message = error instanceof Error ? error.message : "unknown error";
        outcome = { ok: false, problem: `verification error: ${message}` };
      }
      return Promise.resolve(outcome);
    },
  };
}

function readRootPem(pem: string): Buffer {
  const count = pem.match(PEM_CERTIFICATE)?.length ?? 0;
  if (count !== 1) throw new Error(`nitro root: expected one PEM certificate, found ${count}`);
  try {
    return new X509Certificate(pem).raw;
  } catch {
    throw new Error("nitro root: not a PEM certificate");
  }
}

function verifyNitroEvidence(input: EvidenceInput, now: number, root: Buffer): EvidenceOutcome {
  if (!Number.isFinite(now)) return { ok: false, problem: "now is not a finite time" };
  if (input.certs.length !== 0) {
    return { ok: false, problem: "nitro evidence carries its certificates; certs must be empty" };
  }
  const decoded = decodeNitroDocument(input.evidence);
  if (!decoded.ok) return decoded;
  const document = decoded.document;

  if (document.timestamp > now + NITRO_CLOCK_SKEW_MS) {
    return {
      ok: false,
      problem: `timestamp ${new Date(document.timestamp).toISOString()} is in the future`,
    };
  }
  const chain = verifyNitroCertificateChain({
    certificate: document.certificate,
    cabundle: document.cabundle,
    root,
    at: document.timestamp,
  });
  if (!chain.ok) return chain;

  const signed = encodeSigStructure(document.protectedHeader, document.payload);
  const isValid = verify(
    "sha384",
    signed,
    { key: chain.leaf.publicKey, dsaEncoding: "ieee-p1363" },
    document.signature,
  );
  if (!isValid)
    return { ok: false, problem: "signature: does not verify with the certificate's key" };
  return { ok: true, evidence: toVerifiedEvidence(document) };
}

function toVerifiedEvidence(document: UnverifiedNitroDocument): VerifiedEvidence {
  const pcr = (index: number): Buffer => document.pcrs.get(index) ?? Buffer.alloc(0);
  const isZero = (bytes: Buffer): boolean => bytes.length > 0 && bytes.every((byte) => byte === 0);
  const pcrs: Record<string, string> = {};
  for (const [index, value] of [...document.pcrs].sort(([a], [b]) => a - b)) {
    pcrs[String(index)] = value.toString("hex");
  }
  const userData = document.userData ?? Buffer.alloc(0);
  const claims: Record<string, unknown> = {
    moduleId: document.moduleId,
    digest: document.digest,
    timestamp: document.timestamp,
    pcrs: Object.freeze(pcrs),
    userData: userData.toString("hex"),
  };
  if (document.publicKey !== undefined) claims.publicKey = document.publicKey.toString("hex");
  if (document.nonce !== undefined) claims.nonce = document.nonce.toString("hex");
  return Object.freeze({
    platform: "nitro",
    measurement: pcr(0).toString("hex"),
    debug: isZero(pcr(0)) && isZero(pcr(1)) && isZero(pcr(2)),
    tcbStatus: undefined,
    svn: undefined,
    reportData: userData,
    nonce: document.nonce,
    producedAt: document.timestamp,
    claims: Object.freeze(claims),
  });
}
