import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceInput } from "../../src/claims/evidence/evidence.js";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { LogLine } from "../support/audit-capture.js";
import {
  bindingOf,
  envelopeOf,
  newNonce,
  spkiOf,
  type Platform,
} from "../support/evidence/evidence-delivery.js";
import { makeNitroDocument, sharedNitroTestPki } from "../support/evidence/nitro-factory.js";
import { getSnpTestChain, makeSnpReport } from "../support/evidence/sev-snp-factory.js";
import { DEFAULT_MRTD, makeTdxQuote, tdxTestPki } from "../support/evidence/tdx-factory.js";
import { expectAllowed, expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest, type ClientResponse } from "../support/mtls-client.js";

/**
 * POST /.well-known/verigate/attest: bound evidence, verified once, exchanged for a
 * short-lived token bound to the client certificate, presented afterwards in
 * x-verigate-attestation. Every exchange, granted or refused, has an audit line.
 */

const ATTEST = "/.well-known/verigate/attest";
const SNP_MEASUREMENT = createHash("sha384").update("verigate exchanged snp guest").digest("hex");
const PCR0 = createHash("sha384").update("verigate exchanged enclave").digest("hex");

const PLATFORMS: readonly {
  readonly platform: Platform;
  readonly measurement: string;
  make(reportData: Buffer): Promise<EvidenceInput>;
}[] = [
  {
    platform: "sev-snp",
    measurement: SNP_MEASUREMENT,
    make: (reportData) => makeSnpReport({ reportData, measurement: SNP_MEASUREMENT }),
  },
  {
    platform: "tdx",
    measurement: DEFAULT_MRTD,
    make: async (reportData) => ({ evidence: await makeTdxQuote({ reportData }), certs: [] }),
  },
  {
    platform: "nitro",
    measurement: PCR0,
    make: async (reportData) => ({
      evidence: await makeNitroDocument({
        userData: reportData,
        pcrs: { 0: Buffer.from(PCR0, "hex") },
      }),
      certs: [],
    }),
  },
];

function issuer(platform: Platform): string {
  return `  - name: ${platform}-hw
    kind: attestation
    evidence: ${platform}
    roots: [${platform}-root.pem]
    bindToClientCert: true
`;
}

function allowRule(platform: Platform, list: string): string {
  return `        - tee.platform: ${platform}
          tee.measurement: { inList: ${list} }
          tee.debug: false
          tee.boundToClientCert: true
          tee.age: { lt: 5m }
`;
}

describe("POST /.well-known/verigate/attest", () => {
  let h: GatewayHarness;
  let alice: IssuedCertificate;
  let bob: IssuedCertificate;

  beforeAll(async () => {
    h = await startGateway({
      files: {
        "sev-snp-root.pem": (await getSnpTestChain()).arkPem,
        "tdx-root.pem": (await tdxTestPki()).rootPem,
        "nitro-root.pem": (await sharedNitroTestPki()).rootPem,
      },
      extra: `measurements:
  snp-guests: ["${SNP_MEASUREMENT}"]
  tdx-guests: ["${DEFAULT_MRTD}"]
  enclaves: ["${PCR0}"]
issuers:
${issuer("sev-snp")}${issuer("tdx")}${issuer("nitro")}`,
      routes: `routes:
  - name: enclave-api
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
${allowRule("sev-snp", "snp-guests")}${allowRule("tdx", "tdx-guests")}${allowRule("nitro", "enclaves")}`,
    });
    ({ alice, bob } = h.pki.clients);
  });
  afterAll(() => h.close());

  /** One exchange, and its audit line. */
  async function attest(request: {
    as?: IssuedCertificate;
    method?: string;
    body?: string;
  }): Promise<{ res: ClientResponse; line: LogLine }> {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      path: ATTEST,
      method: request.method ?? "POST",
      headers: { "content-type": "application/json" },
      ...(request.as === undefined ? {} : { as: request.as }),
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    expect(line).toMatchObject({ route: "", method: request.method ?? "POST", path: ATTEST });
    return { res, line };
  }

  /** A JSON envelope of `platform` evidence binding a fresh nonce to alice's key. */
  async function boundEnvelope(platform: Platform = "sev-snp"): Promise<string> {
    const p = PLATFORMS.find((candidate) => candidate.platform === platform);
    if (p === undefined) throw new Error(platform);
    const nonce = await newNonce(h);
    const input = await p.make(bindingOf(nonce, spkiOf(alice)));
    return JSON.stringify(envelopeOf({ platform, ...input, nonce }));
  }

  /** A token for alice, from a successful exchange. */
  async function aliceToken(platform: Platform = "sev-snp"): Promise<string> {
    const { res } = await attest({ as: alice, body: await boundEnvelope(platform) });
    expect(res.status).toBe(200);
    return res.json<{ token: string }>().token;
  }

  /** A refused exchange: the status, the fixed category, the audit line's reasons. */
  async function expectRefused(
    request: Parameters<typeof attest>[0],
    status: number,
    error: string,
    reasons: readonly string[],
  ): Promise<LogLine> {
    const before = h.upstream.seen.length;
    const { res, line } = await attest(request);
    expect(res.status).toBe(status);
    expect(res.json()).toEqual({ error, requestId: res.headers["x-request-id"] });
    expect(line).toMatchObject({ decision: "deny", status, reasons });
    expect(res.body).not.toContain("token");
    expect(h.upstream.seen.length).toBe(before);
    return line;
  }

  it.each(PLATFORMS)(
    "exchanges bound $platform evidence for a token that reaches the route, header withheld from the upstream",
    async ({ platform, measurement }) => {
      const before = h.upstream.seen.length;
      const { res, line } = await attest({ as: alice, body: await boundEnvelope(platform) });
      expect(res.status).toBe(200);
      expect(res.headers["cache-control"]).toBe("no-store");
      const body = res.json<{ token: string; expiresIn: number }>();
      expect(Object.keys(body).sort()).toEqual(["expiresIn", "token"]);
      expect(body.expiresIn).toBe(300);
      expect(body.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(line).toMatchObject({
        decision: "allow",
        status: 200,
        reasons: ["served-by-verigate"],
        teePlatform: platform,
        teeMeasurement: measurement,
        teeIssuer: `${platform}-hw`,
      });
      expect(h.upstream.seen.length).toBe(before);

      const allowed = await expectAllowed(h, {
        as: alice,
        headers: { "x-verigate-attestation": body.token },
      });
      expect(allowed.line).toMatchObject({
        route: "enclave-api",
        teePlatform: platform,
        teeMeasurement: measurement,
        teeIssuer: `${platform}-hw`,
      });
      expect(allowed.seen.headers["x-verigate-attestation"]).toBeUndefined();
    },
  );

  it("refuses alice's token on bob's connection", async () => {
    const token = await aliceToken();
    await expectDenied(h, { as: bob, headers: { "x-verigate-attestation": token } }, 401, [
      "token-not-bound",
    ]);
  });

  it("refuses a token whose claims were altered", async () => {
    const token = await aliceToken();
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      tee: Record<string, unknown>;
    };
    claims.tee["measurement"] = "00".repeat(48);
    const altered = Buffer.from(JSON.stringify(claims)).toString("base64url");
    await expectDenied(
      h,
      { as: alice, headers: { "x-verigate-attestation": `${header}.${altered}.${signature}` } },
      401,
      ["token-invalid"],
    );
  });

  it("refuses an exchange without a client certificate", async () => {
    await expectRefused({ body: await boundEnvelope() }, 401, "authentication-required", [
      "client-certificate-required",
    ]);
  });

  it("refuses unbound evidence (no nonce)", async () => {
    const p = PLATFORMS[0] as (typeof PLATFORMS)[number];
    const input = await p.make(Buffer.alloc(64));
    const body = JSON.stringify(envelopeOf({ platform: p.platform, ...input }));
    await expectRefused({ as: alice, body }, 401, "authentication-required", [
      "evidence-not-bound",
    ]);
  });

  it("answers a GET with 405 and Allow: POST", async () => {
    const { res, line } = await attest({ as: alice, method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("POST");
    expect(line).toMatchObject({ decision: "deny", status: 405, reasons: ["malformed-request"] });
  });

  it("refuses a body over 256 KiB with 413", async () => {
    const body = JSON.stringify({ platform: "sev-snp", evidence: "A".repeat(300 * 1024) });
    const { res, line } = await attest({ as: alice, body });
    expect(res.status).toBe(413);
    expect(line).toMatchObject({ decision: "deny", status: 413, reasons: ["malformed-request"] });
  });

  it("refuses a body that is not JSON with 400", async () => {
    await expectRefused({ as: alice, body: "{not json" }, 400, "bad-request", [
      "malformed-request",
    ]);
  });
});
