/**
 * Every reason code verigate can give for a decision, in one place. Codes are
 * stable kebab-case: they appear in audit lines, policy tests and the README
 * (a test keeps the README's table in step with this list).
 *
 * `status` is the HTTP status a client sees when this reason decides a deny;
 * `category` is the short, fixed text a client may see. The code itself and any
 * claim values go only to the audit log.
 */
interface Reason {
  readonly status: number;
  readonly category: string;
  readonly about: string;
}

const AUTH = "authentication-required";
const FORBIDDEN = "forbidden";

// prettier-ignore
export const REASONS = {
  // Decided by the policy.
  "allowed-by-rule": { status: 200, category: "allowed", about: "an allow rule matched and no deny rule did" },
  "denied-by-rule": { status: 403, category: FORBIDDEN, about: "a deny rule matched (deny wins over allow)" },
  "no-matching-rule": { status: 403, category: FORBIDDEN, about: "no allow rule matched" },
  "no-allow-rules": { status: 403, category: FORBIDDEN, about: "the route has no allow rules, so it denies everything" },
  // Which criteria failed (beside no-matching-rule), or held (beside denied-by-rule).
  "attestation-missing": { status: 403, category: FORBIDDEN, about: "the route needs TEE attestation claims and the request has none (or not this one)" },
  "attestation-debug-enabled": { status: 403, category: FORBIDDEN, about: "the TEE runs with debugging enabled" },
  "measurement-not-allowed": { status: 403, category: FORBIDDEN, about: "the TEE's measurement is not on the allowed list" },
  "tcb-out-of-date": { status: 403, category: FORBIDDEN, about: "the TEE's TCB status or security version is not acceptable" },
  "attestation-stale": { status: 403, category: FORBIDDEN, about: "the attestation result is older than the route allows" },
  "tee-platform-not-allowed": { status: 403, category: FORBIDDEN, about: "the TEE platform is not one the route allows" },
  "attestation-failed": { status: 403, category: FORBIDDEN, about: "another TEE criterion failed (issuer, raw claims)" },
  "posture-missing": { status: 403, category: FORBIDDEN, about: "the route needs device posture claims and the request has none (or not this one)" },
  "posture-failed": { status: 403, category: FORBIDDEN, about: "a device posture criterion failed" },
  "posture-stale": { status: 403, category: FORBIDDEN, about: "the posture statement is older than the route allows" },
  // Identity.
  "identity-required": { status: 401, category: AUTH, about: "the route needs a verified identity and the request has none" },
  "client-certificate-required": { status: 401, category: AUTH, about: "no client certificate was presented" },
  "client-certificate-untrusted": { status: 401, category: AUTH, about: "the client certificate does not chain to tls.clientCAs" },
  "client-certificate-expired": { status: 401, category: AUTH, about: "the client certificate (or a CA above it) has expired" },
  "client-certificate-not-yet-valid": { status: 401, category: AUTH, about: "the client certificate is not valid yet" },
  "client-certificate-revoked": { status: 401, category: AUTH, about: "the client certificate is listed in tls.crl, or its fingerprint was revoked by verigate revoke" },
  "client-certificate-wrong-purpose": { status: 401, category: AUTH, about: "the client certificate is not for TLS client authentication" },
  "client-certificate-malformed": { status: 401, category: AUTH, about: "the client certificate has fields verigate refuses (control characters, unparsable names)" },
  "client-certificate-invalid": { status: 401, category: AUTH, about: "the client certificate failed verification for another reason (see the audit detail)" },
  // Signed tokens in headers (any token present in an issuer's header must verify).
  "token-invalid": { status: 401, category: AUTH, about: "a token failed verification: signature, algorithm, iss, aud, unknown kid or format" },
  "token-expired": { status: 401, category: AUTH, about: "a token's exp has passed" },
  "token-issued-in-future": { status: 401, category: AUTH, about: "a token's iat is ahead of the clock (beyond the allowed skew)" },
  "token-too-old": { status: 401, category: AUTH, about: "a token's iat is older than its issuer's maxAge" },
  "token-not-bound": { status: 401, category: AUTH, about: "a token is not bound to this client certificate (cnf x5t#S256)" },
  "nonce-invalid": { status: 401, category: AUTH, about: "a token's nonce is unknown, expired or already used by another token, or missing where required" },
  "attestation-invalid": { status: 401, category: AUTH, about: "a verified attestation token's claims do not fit its profile" },
  "posture-invalid": { status: 401, category: AUTH, about: "a verified posture token's claims have the wrong types" },
  "evidence-invalid": { status: 401, category: AUTH, about: "raw TEE evidence failed verification: format, signature, certificate chain or pinned root" },
  "evidence-not-bound": { status: 401, category: AUTH, about: "raw TEE evidence does not bind a verigate nonce to this client certificate's key (or must and has no nonce)" },
  "key-source-unavailable": { status: 503, category: "unavailable", about: "the keys needed to verify a token could not be fetched; denied" },
  "shared-state-unavailable": { status: 503, category: "unavailable", about: "Redis (state.redis) did not answer, and the request needs it (a nonce, the revocation list); denied" },
  // The request itself.
  "malformed-request": { status: 400, category: "bad-request", about: "the request is ambiguous or malformed (path, Host, headers)" },
  "misdirected-request": { status: 421, category: "misdirected", about: "the Host header names another server than the TLS server name (SNI) the connection was made for" },
  "too-many-headers": { status: 431, category: "headers-too-large", about: "more header fields than limits.maxHeaderCount" },
  "headers-too-large": { status: 431, category: "headers-too-large", about: "the request head is larger than limits.maxHeaderBytes" },
  "request-timeout": { status: 408, category: "request-timeout", about: "the request head or body did not arrive within limits.headersTimeout / requestTimeout" },
  "body-too-large": { status: 413, category: "body-too-large", about: "the request body is larger than the route's maxBodyBytes" },
  "overloaded": { status: 503, category: "unavailable", about: "more requests in flight than limits.maxInFlight: shed at once" },
  "no-route": { status: 404, category: "not-found", about: "no route matches the host and path" },
  "tls-settings-changed": { status: 421, category: "retry-new-connection", about: "the connection was verified under TLS settings a reload has since replaced; retry on a new connection" },
  "served-by-verigate": { status: 200, category: "allowed", about: "a verigate endpoint under /.well-known/verigate/ answered" },
  // Forwarding.
  "upstream-unreachable": { status: 502, category: "bad-gateway", about: "the upstream refused, reset or could not be reached" },
  "upstream-timeout": { status: 504, category: "gateway-timeout", about: "the upstream did not answer within limits.upstreamTimeout" },
  // Fail closed.
  "evaluation-error": { status: 500, category: "internal-error", about: "an unexpected error while deciding; the request was denied" },
} as const satisfies Record<string, Reason>;

export type ReasonCode = keyof typeof REASONS;

/** The status a client gets when these reasons deny (the first one decides). */
export function statusForReasons(reasons: readonly ReasonCode[]): number {
  const first = reasons[0];
  return first === undefined ? 403 : REASONS[first].status;
}
