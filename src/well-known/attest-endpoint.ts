import type { IncomingMessage, ServerResponse } from "node:http";
import type { ConnectionFacts } from "../claims/build-claims.js";
import {
  ATTESTATION_TOKEN_SECONDS,
  type AttestationTokenAuthority,
} from "../claims/evidence/attestation-token-authority.js";
import { teeFromEvidence, type EvidenceCache } from "../claims/evidence/evidence-claims.js";
import { parseEnvelope } from "../claims/evidence/evidence-envelope.js";
import type { EvidenceIssuer } from "../claims/evidence/evidence-issuer.js";
import type { TeeClaims } from "../claims/claims.js";
import type { NonceStore } from "../claims/nonces/nonce-store.js";
import type { ReasonCode } from "../policy/reasons.js";
import { REASONS } from "../policy/reasons.js";
import { sendJson } from "./send-json.js";

export const ATTEST_PATH = "/.well-known/verigate/attest";
/** Evidence too large for a header comes here: a TDX quote is about 5 KB, a Nitro document up to 16 KB. */
const MAX_BODY_BYTES = 256 * 1024;

export interface AttestContext {
  readonly connection: ConnectionFacts;
  readonly evidence: readonly EvidenceIssuer[];
  readonly evidenceCache: EvidenceCache;
  readonly nonces: NonceStore;
  readonly authority: AttestationTokenAuthority;
  readonly now: number;
  readonly requestId: string;
}

/** How the exchange ended, for the audit line. */
export interface AttestOutcome {
  readonly status: number;
  readonly reasons: readonly ReasonCode[];
  readonly detail?: string;
  readonly tee?: TeeClaims;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        resolve("too-large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * `POST /.well-known/verigate/attest`: verifies raw evidence once and exchanges it
 * for a short-lived token, signed by verigate and bound to the client certificate,
 * to present in `x-verigate-attestation`. The evidence must be bound: it names a
 * nonce from POST /.well-known/verigate/nonce and carries verigate's binding of that
 * nonce to this client certificate's key; otherwise stolen evidence could be
 * exchanged for a token bound to the thief's certificate.
 */
export async function serveAttest(
  req: IncomingMessage,
  res: ServerResponse,
  context: AttestContext,
): Promise<AttestOutcome> {
  const { requestId } = context;
  const refuse = (status: number, reason: ReasonCode, detail: string): AttestOutcome => {
    sendJson(res, status, { error: REASONS[reason].category, requestId }, requestId);
    return { status, reasons: [reason], detail };
  };
  if (req.method !== "POST") {
    sendJson(res, 405, { error: "method-not-allowed", requestId }, requestId, { allow: "POST" });
    return { status: 405, reasons: ["malformed-request"], detail: "attest takes POST" };
  }
  const { connection } = context;
  const fingerprint = connection.identity.certFingerprint;
  if (connection.spki === undefined || fingerprint === undefined) {
    return refuse(
      401,
      "client-certificate-required",
      "attestation tokens are bound to a verified client certificate",
    );
  }
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === "too-large") {
    sendJson(res, 413, { error: "payload-too-large", requestId }, requestId, {
      connection: "close",
    });
    return {
      status: 413,
      reasons: ["malformed-request"],
      detail: `body over ${MAX_BODY_BYTES} bytes`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return refuse(400, "malformed-request", "the body is not JSON");
  }
  const envelope = parseEnvelope(json);
  if (typeof envelope === "string") return refuse(400, "malformed-request", envelope);
  if (envelope.nonce === undefined) {
    return refuse(
      401,
      "evidence-not-bound",
      "exchanged evidence must name a nonce and bind it to the client certificate",
    );
  }
  const issuer = context.evidence.find((candidate) => candidate.platform === envelope.platform);
  if (issuer === undefined)
    return refuse(401, "evidence-invalid", `no issuer verifies ${envelope.platform} evidence`);
  const tee = await teeFromEvidence(envelope, issuer, context.evidenceCache, {
    spki: connection.spki,
    nonces: context.nonces,
    now: context.now,
  });
  if ("reason" in tee) return refuse(REASONS[tee.reason].status, tee.reason, tee.detail);
  const attestedAt = context.now - (tee.age ?? 0);
  const token = await context.authority.issue(tee, attestedAt, fingerprint, context.now);
  sendJson(res, 200, { token, expiresIn: ATTESTATION_TOKEN_SECONDS }, requestId);
  return { status: 200, reasons: ["served-by-verigate"], tee };
}
