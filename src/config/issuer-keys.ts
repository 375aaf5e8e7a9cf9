/**
 * Issuer keys that mean something only for token issuers (jwks): a `ca` or
 * `evidence` issuer with one of them is a mistake worth reporting.
 */
export const TOKEN_ONLY_KEYS = [
  "issuer",
  "audience",
  "header",
  "algorithms",
  "clockSkew",
  "maxAge",
  "groupsClaim",
  "profile",
  "claims",
  "nonceClaim",
] as const;
