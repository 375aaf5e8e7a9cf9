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
