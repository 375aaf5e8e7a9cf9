import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceInput } from "../../src/claims/evidence/evidence.js";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import {
  bindingOf,
  evidenceHeader,
  flipBit,
  newNonce,
  spkiOf,
  type Platform,
} from "../support/evidence/evidence-delivery.js";
import { makeNitroDocument, sharedNitroTestPki } from "../support/evidence/nitro-factory.js";
import { getSnpTestChain, makeSnpReport } from "../support/evidence/sev-snp-factory.js";
import { DEFAULT_MRTD, makeTdxQuote, tdxTestPki } from "../support/evidence/tdx-factory.js";
import { expectAllowed, expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";

/**
 * Raw evidence in `x-tee-evidence`, verified by verigate itself up to a test root
 * made at run time (the factories' genuine-shaped evidence), and bound: its report
 * data (Nitro: user data) is SHA-512(nonce ‖ SHA-256(client SPKI)) for a nonce from
 * POST /.well-known/verigate/nonce.
 */

/** limits.nonceTtl's default. */
const NONCE_TTL_MS = 120_000;
const MINUTE_MS = 60_000;

interface EvidenceSpec {
  readonly reportData: Buffer;
  readonly measurement?: string;
  readonly debug?: boolean;
  /** Nitro only: the document's timestamp. */
  readonly timestamp?: number;
}

interface PlatformCase {
  readonly platform: Platform;
  /** The measurement the route lists: SEV-SNP launch measurement, TDX MRTD, Nitro PCR0. */
  readonly measurement: string;
  rootPem(): Promise<string>;
  /** Genuine evidence from the platform's factory, signed under its test root. */
  make(spec: EvidenceSpec): Promise<EvidenceInput>;
  /** A byte covered by the evidence's signature. */
  signedOffset(evidence: Buffer): number;
  /**
   * What a debug guest is refused for. A debug Nitro enclave's PCR0-2 are all zero,
   * so its measurement cannot be the listed one either.
   */
  readonly debugReasons: readonly string[];
}

const sha384 = (text: string): string => createHash("sha384").update(text).digest("hex");

const CASES: readonly PlatformCase[] = [
  {
    platform: "sev-snp",
    measurement: sha384("verigate integration snp guest"),
    rootPem: async () => (await getSnpTestChain()).arkPem,
    // The factory presents the VCEK and, after it, the test ASK (the test ARK alone is pinned).
    make: (spec) =>
      makeSnpReport({
        reportData: spec.reportData,
        measurement: spec.measurement ?? sha384("verigate integration snp guest"),
        debug: spec.debug ?? false,
      }),
    signedOffset: () => 0x90, // MEASUREMENT
    debugReasons: ["no-matching-rule", "attestation-debug-enabled"],
  },
  {
    platform: "tdx",
    measurement: DEFAULT_MRTD,
    rootPem: async () => (await tdxTestPki()).rootPem,
    make: async (spec) => ({
      evidence: await makeTdxQuote({
        reportData: spec.reportData,
        mrtd: spec.measurement ?? DEFAULT_MRTD,
        debug: spec.debug ?? false,
      }),
      certs: [],
    }),
    signedOffset: () => 48 + 136, // MRTD, in the v4 TD report body after the 48-byte header
    debugReasons: ["no-matching-rule", "attestation-debug-enabled"],
  },
  {
    platform: "nitro",
    measurement: sha384("verigate integration enclave image"),
    rootPem: async () => (await sharedNitroTestPki()).rootPem,
    make: async (spec) => ({
      evidence: await makeNitroDocument({
        userData: spec.reportData,
        ...(spec.debug === true
          ? { debug: true }
          : {
              pcrs: {
                0: Buffer.from(
                  spec.measurement ?? sha384("verigate integration enclave image"),
                  "hex",
                ),
              },
            }),
        ...(spec.timestamp === undefined ? {} : { timestamp: spec.timestamp }),
      }),
      certs: [],
    }),
    signedOffset: (evidence) => evidence.length - 1, // the last byte of the COSE signature
    debugReasons: ["no-matching-rule", "measurement-not-allowed", "attestation-debug-enabled"],
  },
];

function gatewayConfig(c: PlatformCase, bindToClientCert: boolean): string {
  return `measurements:
  allowed: ["${c.measurement}"]
issuers:
  - name: ${c.platform}-hw
    kind: attestation
    evidence: ${c.platform}
    roots: [evidence-root.pem]
    bindToClientCert: ${String(bindToClientCert)}
`;
}

function routeDemanding(platform: Platform, extra: string): string {
  return `routes:
  - name: enclave-api
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.platform: ${platform}
          tee.measurement: { inList: allowed }
          tee.debug: false
          tee.age: { lt: 5m }${extra}
`;
}

describe.each(CASES)("bound $platform evidence in x-tee-evidence", (c) => {
  let h: GatewayHarness;
  let alice: IssuedCertificate;
  let bob: IssuedCertificate;
  /** How far the gateway's clock runs ahead of the real one. */
  let skewMs = 0;

  beforeAll(async () => {
    h = await startGateway({
      files: { "evidence-root.pem": await c.rootPem() },
      extra: gatewayConfig(c, true),
      routes: routeDemanding(c.platform, "\n          tee.boundToClientCert: true"),
      now: () => Date.now() + skewMs,
    });
    ({ alice, bob } = h.pki.clients);
  });
  afterAll(() => h.close());

  /** Evidence binding `nonce` to `boundTo`'s key (default alice's), in a header that names `nonce`. */
  async function boundHeader(
    nonce: string,
    spec: Omit<EvidenceSpec, "reportData"> & { boundTo?: IssuedCertificate } = {},
  ): Promise<Record<string, string>> {
    const input = await c.make({
      ...spec,
      reportData: bindingOf(nonce, spkiOf(spec.boundTo ?? alice)),
    });
    return evidenceHeader({ platform: c.platform, ...input, nonce });
  }

  it("lets bound, fresh, non-debug evidence with a listed measurement through, and keeps it from the upstream", async () => {
    const headers = await boundHeader(await newNonce(h));
    const { line, seen } = await expectAllowed(h, { as: alice, headers });
    expect(line).toMatchObject({
      route: "enclave-api",
      teePlatform: c.platform,
      teeMeasurement: c.measurement,
      teeIssuer: `${c.platform}-hw`,
    });
    expect(seen.headers["x-tee-evidence"]).toBeUndefined();
  });

  it("accepts the same bound evidence again on a later request (same evidence, same nonce)", async () => {
    const headers = await boundHeader(await newNonce(h));
    await expectAllowed(h, { as: alice, headers });
    const { seen } = await expectAllowed(h, { as: alice, headers });
    expect(seen.headers["x-tee-evidence"]).toBeUndefined();
  });

  it("refuses a debug guest", async () => {
    const headers = await boundHeader(await newNonce(h), { debug: true });
    await expectDenied(h, { as: alice, headers }, 403, c.debugReasons);
  });

  it("refuses a measurement that is not listed", async () => {
    const headers = await boundHeader(await newNonce(h), {
      measurement: sha384(`another ${c.platform} image`),
    });
    await expectDenied(h, { as: alice, headers }, 403, [
      "no-matching-rule",
      "measurement-not-allowed",
    ]);
  });

  it("refuses evidence with one flipped bit", async () => {
    const nonce = await newNonce(h);
    const input = await c.make({ reportData: bindingOf(nonce, spkiOf(alice)) });
    const flipped = flipBit(input.evidence, c.signedOffset(input.evidence));
    const headers = evidenceHeader({ platform: c.platform, ...input, evidence: flipped, nonce });
    await expectDenied(h, { as: alice, headers }, 401, ["evidence-invalid"]);
    // Evidence that failed verification does not burn the nonce.
    await expectAllowed(h, { as: alice, headers: await boundHeader(nonce) });
  });

  it("refuses evidence bound to bob's key when alice presents it", async () => {
    const headers = await boundHeader(await newNonce(h), { boundTo: bob });
    await expectDenied(h, { as: alice, headers }, 401, ["evidence-not-bound"]);
  });

  it("refuses evidence without a nonce, since the issuer demands binding", async () => {
    const nonce = await newNonce(h);
    const input = await c.make({ reportData: bindingOf(nonce, spkiOf(alice)) });
    const headers = evidenceHeader({ platform: c.platform, ...input });
    await expectDenied(h, { as: alice, headers }, 401, ["evidence-not-bound"]);
  });

  it("refuses a second piece of evidence replaying a redeemed nonce", async () => {
    const nonce = await newNonce(h);
    await expectAllowed(h, { as: alice, headers: await boundHeader(nonce) });
    await expectDenied(h, { as: alice, headers: await boundHeader(nonce) }, 401, ["nonce-invalid"]);
  });

  it("refuses a nonce verigate never issued: the binding holds, the nonce store refuses it", async () => {
    // The guest bound this nonce to alice's key correctly, so the binding check (which
    // comes first) passes; redeeming the unknown nonce then fails.
    const forged = Buffer.alloc(32, 0x42).toString("base64url");
    await expectDenied(h, { as: alice, headers: await boundHeader(forged) }, 401, [
      "nonce-invalid",
    ]);
    // A nonce not even of verigate's form (32 bytes, base64url) binds nothing.
    await expectDenied(h, { as: alice, headers: await boundHeader("c2hvcnQ") }, 401, [
      "evidence-not-bound",
    ]);
  });

  it("refuses a nonce that expired (the gateway's clock moved past limits.nonceTtl)", async () => {
    const nonce = await newNonce(h);
    const headers = await boundHeader(nonce);
    skewMs = NONCE_TTL_MS + 1_000;
    try {
      await expectDenied(h, { as: alice, headers }, 401, ["nonce-invalid"]);
    } finally {
      skewMs = 0;
    }
  });
});

describe("a stale Nitro document, unbound, before an issuer that does not demand binding", () => {
  const nitro = CASES.find((c) => c.platform === "nitro") as PlatformCase;
  let h: GatewayHarness;

  beforeAll(async () => {
    h = await startGateway({
      files: { "evidence-root.pem": await nitro.rootPem() },
      extra: gatewayConfig(nitro, false),
      routes: routeDemanding("nitro", ""),
    });
  });
  afterAll(() => h.close());

  async function unboundHeader(timestamp: number): Promise<Record<string, string>> {
    const input = await nitro.make({ reportData: Buffer.alloc(0), timestamp });
    return evidenceHeader({ platform: "nitro", ...input });
  }

  it("lets a fresh document through on its own timestamp", async () => {
    const { line } = await expectAllowed(h, {
      as: h.pki.clients.alice,
      headers: await unboundHeader(Date.now()),
    });
    expect(line).toMatchObject({ teePlatform: "nitro", teeIssuer: "nitro-hw" });
  });

  it("refuses a document whose timestamp is 10 minutes old under tee.age < 5m", async () => {
    const headers = await unboundHeader(Date.now() - 10 * MINUTE_MS);
    await expectDenied(h, { as: h.pki.clients.alice, headers }, 403, [
      "no-matching-rule",
      "attestation-stale",
    ]);
  });
});
