import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { createTestPki, type TestPki } from "../support/pki.js";
import { startTcpRelay, type TcpRelay } from "../support/tcp-relay.js";
import { findTestRedis, TEST_REDIS_URL } from "../support/test-redis.js";
import { createSigningKey, jwksOf, mintToken, type TestSigningKey } from "../support/token-keys.js";
import { NONCE_ATTESTATION_ISSUERS } from "../support/test-routes.js";
import { runVerigate } from "../support/verigate-cli.js";

const MEASUREMENT = "cd".repeat(48);
const hasRedis = await findTestRedis();

/** Two gateways sharing one Redis, reached through a relay the test can cut (an outage). */
describe.skipIf(!hasRedis)("shared state in Redis across gateways", () => {
  let pki: TestPki;
  let key: TestSigningKey;
  let relay: TcpRelay;
  let a: GatewayHarness;
  let b: GatewayHarness;

  beforeAll(async () => {
    pki = await createTestPki();
    key = await createSigningKey("ES256", "att-1");
    const target = new URL(TEST_REDIS_URL);
    relay = await startTcpRelay(target.hostname, Number(target.port || 6379));
    const url = `redis://127.0.0.1:${relay.port}${target.pathname}`;
    const options = {
      pki,
      files: { "att-jwks.json": JSON.stringify(jwksOf(key)) },
      extra: `state: { redis: { url: "${url}", keyPrefix: "verigate-test-${randomUUID()}:", revocationMaxAge: 3s } }
${NONCE_ATTESTATION_ISSUERS}`,
      routes: `routes:
  - name: attested
    match: { host: app.test, pathPrefix: /attested }
    upstream: "{{upstream}}"
    policy: { allow: [ { tee.measurement: ${MEASUREMENT} } ] }
  - name: plain
    match: { host: app.test }
    upstream: "{{upstream}}"
    policy: { allow: [ { identity.commonName: { in: [alice, bob] } } ] }
`,
    };
    a = await startGateway(options);
    b = await startGateway(options);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await relay.close();
  });

  async function call(
    h: GatewayHarness,
    request: {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      as?: "alice" | "bob";
    },
  ): Promise<{ status: number; reasons: unknown; body: string; fingerprint: unknown }> {
    const res = await mtlsRequest({
      port: h.port,
      pki,
      as: pki.clients[request.as ?? "alice"],
      ...(request.method === undefined ? {} : { method: request.method }),
      ...(request.path === undefined ? {} : { path: request.path }),
      ...(request.headers === undefined ? {} : { headers: request.headers }),
    });
    const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
    return {
      status: res.status,
      reasons: line.reasons,
      body: res.body,
      fingerprint: line.certFingerprint,
    };
  }
  const newNonce = async (h: GatewayHarness): Promise<string> => {
    const res = await call(h, { method: "POST", path: "/.well-known/verigate/nonce" });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { nonce: string }).nonce;
  };
  const tokenWith = (nonce: string, extra: Record<string, unknown> = {}): Promise<string> =>
    mintToken(
      key,
      { tee: "sev-snp", m: MEASUREMENT, d: false, nonce, ...extra },
      { iss: "https://att.test", aud: "verigate" },
    );
  const attested = (h: GatewayHarness, token: string): ReturnType<typeof call> =>
    call(h, { path: "/attested", headers: { "x-attestation-token": token } });

  it("redeems a nonce issued by one gateway through the other, once, for one token", async () => {
    const nonce = await newNonce(a);
    const token = await tokenWith(nonce);
    expect(await attested(b, token)).toMatchObject({ status: 200, reasons: ["allowed-by-rule"] });
    // The same token again, through either gateway: the nonce is its own.
    expect(await attested(a, token)).toMatchObject({ status: 200, reasons: ["allowed-by-rule"] });
    // Another token replaying the nonce, through either gateway: refused.
    const replay = await tokenWith(nonce, { replayed: true });
    expect(await attested(a, replay)).toMatchObject({ status: 401, reasons: ["nonce-invalid"] });
    expect(await attested(b, replay)).toMatchObject({ status: 401, reasons: ["nonce-invalid"] });
  });

  it("fails closed where Redis is needed while it is down, serves the rest, and recovers", async () => {
    const issuedBefore = await newNonce(b);
    await relay.cut();
    try {
      const nonceDown = await call(a, { method: "POST", path: "/.well-known/verigate/nonce" });
      expect(nonceDown).toMatchObject({ status: 503, reasons: ["shared-state-unavailable"] });
      expect(await attested(a, await tokenWith(issuedBefore))).toMatchObject({
        status: 503,
        reasons: ["shared-state-unavailable"],
      });
      // A route that needs no nonce keeps working (the revocation list read last stays in force).
      expect(await call(a, {})).toMatchObject({ status: 200, reasons: ["allowed-by-rule"] });
      expect(await call(b, {})).toMatchObject({ status: 200, reasons: ["allowed-by-rule"] });
      // ...until the list is older than revocationMaxAge (3 s): then certificates fail closed too.
      await expect
        .poll(async () => (await call(a, {})).reasons, { timeout: 8_000, interval: 250 })
        .toEqual(["shared-state-unavailable"]);
      expect((await call(a, {})).status).toBe(503);
    } finally {
      await relay.restore();
    }
    // ioredis reconnects by itself (backing off up to 2 s).
    await expect
      .poll(
        async () => (await call(a, { method: "POST", path: "/.well-known/verigate/nonce" })).status,
        {
          timeout: 8_000,
          interval: 250,
        },
      )
      .toBe(200);
    expect(await call(a, {})).toMatchObject({ status: 200, reasons: ["allowed-by-rule"] });
    await expect
      .poll(async () => (await attested(a, await tokenWith(issuedBefore))).status, {
        timeout: 8_000,
        interval: 250,
      })
      .toBe(200);
  });

  it("refuses a certificate revoked by `verigate revoke` on every gateway within about a second", async () => {
    const bob = await call(a, { as: "bob" });
    expect(bob.status).toBe(200);
    const fingerprint = String(bob.fingerprint);
    const { code, stdout } = await runVerigate(
      "revoke",
      "--fingerprint",
      fingerprint.toUpperCase(),
      "--config",
      a.configFile,
    );
    expect(code).toBe(0);
    expect(stdout).toContain(`revoked ${fingerprint}`);
    for (const h of [a, b]) {
      await expect
        .poll(async () => (await call(h, { as: "bob" })).reasons, { timeout: 3_000, interval: 100 })
        .toEqual(["client-certificate-revoked"]);
      expect((await call(h, { as: "bob" })).status).toBe(401);
      expect((await call(h, { as: "alice" })).status).toBe(200);
    }
  });
});
