/**
 * The route set most integration tests share: every user of the corp.test trust
 * domain may reach app.test, except bob, whom a deny rule refuses. A 401 from it
 * proves the certificate gate; a 403 proves the policy.
 */
export const APP_ROUTES = `routes:
  - name: app
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
      deny:
        - identity.commonName: bob
`;

/**
 * An `issuers:` section of one attestation issuer whose tokens must echo a nonce
 * verigate handed out (`requireNonce`): generic profile, `iss` https://att.test,
 * `aud` verigate, keys from `att-jwks.json` beside the config. Tests mint its tokens
 * with `{ tee, m, d, nonce }` claims.
 */
export const NONCE_ATTESTATION_ISSUERS = `issuers:
  - name: fresh-att
    kind: attestation
    profile: generic
    claims: { platform: tee, measurement: m, debug: d, nonce: nonce }
    issuer: https://att.test
    audience: verigate
    jwks: { file: att-jwks.json }
    algorithms: [ES256]
    requireNonce: true
`;
