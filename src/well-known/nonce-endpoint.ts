import type { IncomingMessage, ServerResponse } from "node:http";
import type { NonceStore } from "../claims/nonces/nonce-store.js";
import { sendJson } from "./send-json.js";

/** verigate's own endpoints on the proxy listener; requests here never reach an upstream. */
export const WELL_KNOWN_PREFIX = "/.well-known/verigate/";
export const NONCE_PATH = `${WELL_KNOWN_PREFIX}nonce`;

/**
 * `POST /.well-known/verigate/nonce`: a fresh single-use nonce that an
 * attestation token can echo (eat_nonce, verifier_nonce, or a configured claim).
 * Returns the status it answered with.
 */
export async function serveNonce(
  req: IncomingMessage,
  res: ServerResponse,
  nonces: NonceStore,
  requestId: string,
): Promise<number> {
  if (req.method !== "POST") {
    sendJson(res, 405, { error: "method-not-allowed", requestId }, requestId, { allow: "POST" });
    return 405;
  }
  const { nonce, expiresIn } = await nonces.issue();
  sendJson(res, 200, { nonce, expiresIn }, requestId);
  return 200;
}

/** Any other path under /.well-known/verigate/. */
export function serveUnknownEndpoint(res: ServerResponse, requestId: string): number {
  sendJson(res, 404, { error: "not-found", requestId }, requestId);
  return 404;
}
