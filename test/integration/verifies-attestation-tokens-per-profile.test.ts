import { randomBytes } from "node:crypto";
import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  earClaims,
  gcpConfidentialSpaceClaims,
  itaTdxClaims,
  maaSevSnpClaims,
  maaTdxClaims,
  type AttestationClaimsOverrides,
} from "../support/attestation-claims.js";
import { expectDenied, sendToGateway } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { createSigningKey, jwksOf, mintToken, type TestSigningKey } from "../support/token-keys.js";

/**
 * One attestation issuer per gateway (the default header `x-attestation-token` can belong
 * to one issuer only), in front of the DESIGN.md payroll policy. Each vendor's token is
 * signed at test time with a key made at test time, in the vendor's own claim layout.
 */

const MAA_SNP_MEASUREMENT =
  "04a170f39a3f702472ed0c7ecbda9babfc530e3caac475fdd607ff499177d14c278c5a15ad07ceacd5230ae63d507e9d";
const TDX_MRTD =
  "5be56d418d33661a6c21da77c9503a07e430b35eb92a0bd042a6b3c4e79b3c82bb1c594e770d0d129a0724669f1e953f";
const GCP_IMAGE_DIGEST = "6e5b1c8a3d9f0e2b4c7a1d8e5f3b9c0a2e4d6f8b1a3c5e7d9f0b2d4c6e8a0b1c";
const ATTESTATION_HEADER = "x-attestation-token";

/** A made-up vendor ("acme attestation") read through the `generic` profile's mapping. */
function acmeClaims(overrides: AttestationClaimsOverrides = {}): JWTPayload {
  return {
    sub: "payroll-workload",
    evidence: {
      tee: "SEV-SNP",
      // Upper case on purpose: the generic profile lowercases hex measurements.
      launch_digest: (overrides.measurement ?? MAA_SNP_MEASUREMENT).toUpperCase(),
      debuggable: overrides.debug ?? false,
      tcb: "UpToDate",
    },
  };
}

interface ProfileCase {
  readonly title: string;
  readonly profile: string;
  readonly alg: "ES256" | "RS256";
  /** Issuer YAML lines beyond the common ones (audience, claims mapping), indented 4. */
  readonly issuerYaml: string;
  readonly audience?: string;
  readonly platform: string;
  /** What tee.measurement holds for a good token (lowercase hex). */
  readonly measurement: string;
  /** The measurement's length in bytes, for a well-formed but unlisted one. */
  readonly measurementBytes: number;
  readonly claims: (overrides: AttestationClaimsOverrides) => JWTPayload;
}

const CASES: readonly ProfileCase[] = [
  {
    title: "azure-maa, SEV-SNP token",
    profile: "azure-maa",
    alg: "RS256",
    // MAA sets no aud: the token is bound to the client certificate instead.
    issuerYaml: "    unsafeAllowAnyAudience: true\n",
    platform: "sev-snp",
    measurement: MAA_SNP_MEASUREMENT,
    measurementBytes: 48,
    claims: maaSevSnpClaims,
  },
  {
    title: "azure-maa, TDX token",
    profile: "azure-maa",
    alg: "RS256",
    issuerYaml: "    unsafeAllowAnyAudience: true\n",
    platform: "tdx",
    measurement: TDX_MRTD,
    measurementBytes: 48,
    claims: maaTdxClaims,
  },
  {
    title: "intel-trust-authority, TDX token (v2 layout)",
    profile: "intel-trust-authority",
    alg: "RS256",
    issuerYaml: "    audience: payroll.verigate.test\n",
    audience: "payroll.verigate.test",
    platform: "tdx",
    measurement: TDX_MRTD,
    measurementBytes: 48,
    claims: itaTdxClaims,
  },
  {
    title: "gcp-confidential-space, SEV-SNP workload",
    profile: "gcp-confidential-space",
    alg: "RS256",
    issuerYaml: "    audience: https://payroll.verigate.test\n",
    audience: "https://payroll.verigate.test",
    platform: "sev-snp",
    measurement: GCP_IMAGE_DIGEST,
    measurementBytes: 32,
    claims: gcpConfidentialSpaceClaims,
  },
  {
    title: "veraison-ear, Trustee EAR about a SEV-SNP guest",
    profile: "veraison-ear",
    alg: "ES256",
    issuerYaml: "    audience: payroll\n",
    audience: "payroll",
    platform: "sev-snp",
    measurement: MAA_SNP_MEASUREMENT,
    measurementBytes: 48,
    claims: (overrides) => earClaims({ ...overrides, tee: "snp" }),
  },
  {
    title: "generic, with a claims mapping",
    profile: "generic",
    alg: "ES256",
    issuerYaml: `    audience: payroll
    claims:
      platform: evidence.tee
      measurement: evidence.launch_digest
      debug: evidence.debuggable
      tcbStatus: evidence.tcb
`,
    audience: "payroll",
    platform: "sev-snp",
    measurement: MAA_SNP_MEASUREMENT,
    measurementBytes: 48,
    claims: acmeClaims,
  },
];

const ISSUER = "https://attestation.verigate.test";

describe.each(CASES)("an attestation token from profile $title", (c) => {
  let h: GatewayHarness;
  let key: TestSigningKey;
  const issuerName = `attest-${c.profile}`;

  beforeAll(async () => {
    key = await createSigningKey(c.alg, `${c.profile}-signing`);
    h = await startGateway({
      files: { "attestation-jwks.json": JSON.stringify(jwksOf(key)) },
      extra: `issuers:
  - name: ${issuerName}
    kind: attestation
    profile: ${c.profile}
    issuer: ${ISSUER}
    algorithms: [${c.alg}]
    jwks: { file: attestation-jwks.json }
    bindToClientCert: true
${c.issuerYaml}
measurements:
  payroll-v3:
    - "${c.measurement}"
    - "${randomBytes(c.measurementBytes).toString("hex")}"
`,
      routes: `routes:
  - name: payroll
    match: { host: app.test, pathPrefix: /api/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.spiffeId: spiffe://corp.test/user/alice
          tee.platform: { in: [sev-snp, tdx] }
          tee.measurement: { inList: payroll-v3 }
          tee.debug: false
          tee.age: { lt: 5m }
`,
    });
  });
  afterAll(() => h.close());

  /** A token in this vendor's layout, bound to alice's certificate unless told otherwise. */
  function tokenOf(overrides: AttestationClaimsOverrides, boundTo = h.pki.clients.alice) {
    return mintToken(key, c.claims(overrides), {
      iss: ISSUER,
      ...(c.audience === undefined ? {} : { aud: c.audience }),
      boundTo,
    });
  }

  it("lets a good token bound to the client certificate through, and keeps the token from the upstream", async () => {
    const token = await tokenOf({});
    const before = h.upstream.seen.length;
    const { res, line } = await sendToGateway(h, {
      as: h.pki.clients.alice,
      path: "/api/pay",
      headers: { [ATTESTATION_HEADER]: token },
    });
    expect(res.status).toBe(200);
    expect(line).toMatchObject({
      decision: "allow",
      reasons: ["allowed-by-rule"],
      rule: "allow[0]",
      status: 200,
      teePlatform: c.platform,
      teeMeasurement: c.measurement,
      teeIssuer: issuerName,
    });
    expect(h.upstream.seen.length).toBe(before + 1);
    const seen = h.upstream.seen.at(-1);
    expect(seen?.url).toBe("/api/pay");
    expect(seen?.headers).not.toHaveProperty(ATTESTATION_HEADER);
    expect(seen?.rawHeaders.join("\n")).not.toContain(token);
  });

  it("refuses a token whose TEE runs with debugging enabled (403)", async () => {
    await expectDenied(
      h,
      {
        as: h.pki.clients.alice,
        path: "/api/pay",
        headers: { [ATTESTATION_HEADER]: await tokenOf({ debug: true }) },
      },
      403,
      ["no-matching-rule", "attestation-debug-enabled"],
    );
  });

  it("refuses a token whose measurement is not on the list (403)", async () => {
    const unlisted = randomBytes(c.measurementBytes).toString("hex");
    const line = await expectDenied(
      h,
      {
        as: h.pki.clients.alice,
        path: "/api/pay",
        headers: { [ATTESTATION_HEADER]: await tokenOf({ measurement: unlisted }) },
      },
      403,
      ["no-matching-rule", "measurement-not-allowed"],
    );
    expect(line.teeMeasurement).toBe(unlisted);
  });

  it("refuses a request without an attestation token (403)", async () => {
    await expectDenied(h, { as: h.pki.clients.alice, path: "/api/pay" }, 403, [
      "no-matching-rule",
      "attestation-missing",
    ]);
  });

  it("refuses a good token bound to another client's certificate (401)", async () => {
    await expectDenied(
      h,
      {
        as: h.pki.clients.alice,
        path: "/api/pay",
        headers: { [ATTESTATION_HEADER]: await tokenOf({}, h.pki.clients.bob) },
      },
      401,
      ["token-not-bound"],
    );
  });
});

describe("a verified attestation token that does not say what the policy asks", () => {
  let h: GatewayHarness;
  let key: TestSigningKey;

  beforeAll(async () => {
    key = await createSigningKey("ES256", "ear-signing");
    h = await startGateway({
      files: { "ear-jwks.json": JSON.stringify(jwksOf(key)) },
      extra: `issuers:
  - name: trustee
    kind: attestation
    profile: veraison-ear
    issuer: ${ISSUER}
    audience: payroll
    algorithms: [ES256]
    jwks: { file: ear-jwks.json }
    bindToClientCert: true
measurements:
  realms: ["deafd540cc8eaeb8c6f6866b92b4ec1273a64979888a0e7657c8dddaa3db143b"]
`,
      routes: `routes:
  - name: payroll
    match: { host: app.test, pathPrefix: /api/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.platform: { in: [cca] }
          tee.measurement: { inList: realms }
          tee.debug: false
`,
    });
  });
  afterAll(() => h.close());

  const mint = (claims: JWTPayload): Promise<string> =>
    mintToken(key, claims, { iss: ISSUER, aud: "payroll", boundTo: h.pki.clients.alice });

  it("never reads an absent debug state as false: a CCA realm EAR states none (403)", async () => {
    const line = await expectDenied(
      h,
      {
        as: h.pki.clients.alice,
        path: "/api/pay",
        headers: { [ATTESTATION_HEADER]: await mint(earClaims()) },
      },
      403,
      ["no-matching-rule", "attestation-missing"],
    );
    expect(line).toMatchObject({ teePlatform: "cca", teeIssuer: "trustee" });
    expect(line.detail).toEqual(["allow[0]: tee.debug eq false"]);
  });

  it("refuses a signed token whose claims do not fit its profile (401)", async () => {
    await expectDenied(
      h,
      {
        as: h.pki.clients.alice,
        path: "/api/pay",
        headers: { [ATTESTATION_HEADER]: await mint(earClaims({ claims: { submods: {} } })) },
      },
      401,
      ["attestation-invalid"],
    );
  });
});
