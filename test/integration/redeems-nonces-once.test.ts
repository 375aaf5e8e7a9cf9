import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { createSigningKey, jwksOf, mintToken, type TestSigningKey } from "../support/token-keys.js";
import { NONCE_ATTESTATION_ISSUERS } from "../support/test-routes.js";

const MEASUREMENT = "ab".repeat(48);

describe("nonces from POST /.well-known/verigate/nonce", () => {
  let h: GatewayHarness;
  let key: TestSigningKey;
  beforeAll(async () => {
    key = await createSigningKey("ES256", "att-1");
    h = await startGateway({
      files: { "att-jwks.json": JSON.stringify(jwksOf(key)) },
      extra: NONCE_ATTESTATION_ISSUERS,
      routes: `routes:
  - name: app
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.measurement: ${MEASUREMENT}
          tee.debug: false
`,
    });
  });
  afterAll(() => h.close());

  async function newNonce(): Promise<string> {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      method: "POST",
      path: "/.well-known/verigate/nonce",
    });
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const body = res.json<{ nonce: string; expiresIn: number }>();
    expect(body.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.expiresIn).toBe(120);
    return body.nonce;
  }

  function tokenWith(
    nonce: string | undefined,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const claims = {
      tee: "sev-snp",
      m: MEASUREMENT,
      d: false,
      ...extra,
      ...(nonce === undefined ? {} : { nonce }),
    };
    return mintToken(key, claims, { iss: "https://att.test", aud: "verigate" });
  }

  async function callWith(token: string): Promise<{ status: number; reasons: unknown }> {
    const res = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      as: h.pki.clients.alice,
      headers: { "x-attestation-token": token },
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    return { status: res.status, reasons: line.reasons };
  }

  it("hands out distinct nonces, and the endpoint never reaches an upstream", async () => {
    const before = h.upstream.seen.length;
    const [a, b] = [await newNonce(), await newNonce()];
    expect(a).not.toBe(b);
    expect(h.upstream.seen.length).toBe(before);
    const get = await mtlsRequest({
      port: h.port,
      pki: h.pki,
      path: "/.well-known/verigate/nonce",
    });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
  });

  it("accepts a token echoing a fresh nonce, and the same token again until it expires", async () => {
    const token = await tokenWith(await newNonce());
    expect(await callWith(token)).toEqual({ status: 200, reasons: ["allowed-by-rule"] });
    expect(await callWith(token)).toEqual({ status: 200, reasons: ["allowed-by-rule"] });
  });

  it("refuses a second token replaying a redeemed nonce", async () => {
    const nonce = await newNonce();
    expect((await callWith(await tokenWith(nonce))).status).toBe(200);
    const replay = await tokenWith(nonce, { replayed: true });
    expect(await callWith(replay)).toEqual({ status: 401, reasons: ["nonce-invalid"] });
  });

  it("refuses a nonce verigate never issued, and a token without one where the issuer requires it", async () => {
    expect(await callWith(await tokenWith("A".repeat(43)))).toEqual({
      status: 401,
      reasons: ["nonce-invalid"],
    });
    expect(await callWith(await tokenWith(undefined))).toEqual({
      status: 401,
      reasons: ["nonce-invalid"],
    });
  });

  it("does not burn a nonce on a token that fails verification", async () => {
    const nonce = await newNonce();
    const forged = await mintToken(
      await createSigningKey("ES256", "att-1"),
      { tee: "sev-snp", m: MEASUREMENT, d: false, nonce },
      { iss: "https://att.test", aud: "verigate" },
    );
    expect((await callWith(forged)).reasons).toEqual(["token-invalid"]);
    expect((await callWith(await tokenWith(nonce))).status).toBe(200);
  });
});
