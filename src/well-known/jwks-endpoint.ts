import type { IncomingMessage, ServerResponse } from "node:http";
import type { AssertionKeys } from "../proxy/assertion-keys.js";
import { WELL_KNOWN_PREFIX } from "./nonce-endpoint.js";
import { sendJson } from "./send-json.js";

export const JWKS_PATH = `${WELL_KNOWN_PREFIX}jwks.json`;
/**
 * How long upstreams may cache the key set. A retired key stays published for a
 * whole rotation period, and jose's remote key sets refetch on an unknown kid, so
 * caching does not break verification across a rotation.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * `GET /.well-known/verigate/jwks.json`: the public keys (current and previous)
 * that verify `x-verigate-assertion`. Public by design: no private member is ever
 * in the set. Returns the status it answered with.
 */
export function serveJwks(
  req: IncomingMessage,
  res: ServerResponse,
  keys: AssertionKeys,
  requestId: string,
): number {
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, { error: "method-not-allowed", requestId }, requestId, {
      allow: "GET, HEAD",
    });
    return 405;
  }
  // A rotation due now is published before anyone signs with the new key.
  keys.maybeRotate();
  sendJson(res, 200, keys.jwks(), requestId, {
    "cache-control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
  });
  return 200;
}
