/**
 * Every reason code verigate can give for a decision, in one place. Codes are
 * stable kebab-case: they appear in audit lines, policy tests and the README
 * (a test keeps the README's table in step with this list).
 *
 * `status` is the HTTP status a client sees when this reason decides a deny;
 * `category` is the short, fixed text a client may see. The code itself and any
 * claim values go only to the audit log.
 */
export const REASONS = {
  // Decided by the policy.
  "allowed-by-rule": {
    status: 200,
    category: "allowed",
    about: "an allow rule matched and no deny rule did",
  },
  "denied-by-rule": {
    status: 403,
    category: "forbidden",
    about: "a deny rule matched (deny wins over allow)",
  },
  "no-matching-rule": { status: 403, category: "forbidden", about: "no allow rule matched" },
  "no-allow-rules": {
    status: 403,
    category: "forbidden",
    about: "the route has no allow rules, so it denies everything",
  },
  // Identity.
  "identity-required": {
    status: 401,
    category: "authentication-required",
    about: "the route needs a verified identity and the request has none",
  },
  "client-certificate-required": {
    status: 401,
    category: "authentication-required",
    about: "no client certificate was presented",
  },
  "client-certificate-untrusted": {
    status: 401,
    category: "authentication-required",
    about: "the client certificate does not chain to tls.clientCAs",
  },
  "client-certificate-expired": {
    status: 401,
    category: "authentication-required",
    about: "the client certificate (or a CA above it) has expired",
  },
  "client-certificate-not-yet-valid": {
    status: 401,
    category: "authentication-required",
    about: "the client certificate is not valid yet",
  },
  "client-certificate-revoked": {
    status: 401,
    category: "authentication-required",
    about: "the client certificate is listed in tls.crl",
  },
  "client-certificate-wrong-purpose": {
    status: 401,
    category: "authentication-required",
    about: "the client certificate is not for TLS client authentication",
  },
  "client-certificate-malformed": {
    status: 401,
    category: "authentication-required",
    about:
      "the client certificate has fields verigate refuses (control characters, unparsable names)",
  },
  "client-certificate-invalid": {
    status: 401,
    category: "authentication-required",
    about: "the client certificate failed verification for another reason (see the audit detail)",
  },
  // The request itself.
  "malformed-request": {
    status: 400,
    category: "bad-request",
    about: "the request is ambiguous or malformed (path, Host, headers)",
  },
  "no-route": { status: 404, category: "not-found", about: "no route matches the host and path" },
  // Forwarding.
  "upstream-unreachable": {
    status: 502,
    category: "bad-gateway",
    about: "the upstream refused, reset or could not be reached",
  },
  "upstream-timeout": {
    status: 504,
    category: "gateway-timeout",
    about: "the upstream did not answer within limits.upstreamTimeout",
  },
  // Fail closed.
  "evaluation-error": {
    status: 500,
    category: "internal-error",
    about: "an unexpected error while deciding; the request was denied",
  },
} as const satisfies Record<string, { status: number; category: string; about: string }>;

export type ReasonCode = keyof typeof REASONS;

/** The status a client gets when these reasons deny (the first one decides). */
export function statusForReasons(reasons: readonly ReasonCode[]): number {
  const first = reasons[0];
  return first === undefined ? 403 : REASONS[first].status;
}
