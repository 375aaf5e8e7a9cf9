import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAllowed, expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import {
  createSigningKey,
  jwksOf,
  mintToken,
  type MintOptions,
  type TestSigningKey,
} from "../support/token-keys.js";

const ISSUED = { iss: "https://mdm.corp.test", aud: "verigate" } as const satisfies MintOptions;
const MINUTE_S = 60;

/** A device the MDM vouches for, as its posture token states it (sub is the device id). */
const GOOD_POSTURE = {
  sub: "device-7f3a",
  managed: true,
  compliant: true,
  diskEncrypted: true,
  os: "macOS",
  osVersion: "14.3",
} as const satisfies JWTPayload;

describe("posture tokens in x-posture-token", () => {
  let h: GatewayHarness;
  let mdmKey: TestSigningKey;
  const mint = (claims: JWTPayload, options: Partial<MintOptions> = {}): Promise<string> =>
    mintToken(mdmKey, claims, { ...ISSUED, ...options });
  const withPosture = (token: string) => ({
    as: h.pki.clients.alice,
    path: "/app/home",
    headers: { "x-posture-token": token },
  });

  beforeAll(async () => {
    mdmKey = await createSigningKey("ES256", "mdm-1");
    h = await startGateway({
      extra: `issuers:
  - name: mdm
    kind: posture
    issuer: ${ISSUED.iss}
    audience: ${ISSUED.aud}
    algorithms: [ES256]
    jwks: { file: mdm-jwks.json }
`,
      files: { "mdm-jwks.json": JSON.stringify(jwksOf(mdmKey)) },
      routes: `routes:
  - name: app
    match: { host: app.test, pathPrefix: /app/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - device.managed: true
          device.diskEncrypted: true
          device.osVersion: { gte: "14.2" }
          device.age: { lt: 10m }
`,
    });
  });
  afterAll(() => h.close());

  it("allows a managed, encrypted, current device, names it in the audit line, and keeps the token from the upstream", async () => {
    const { line, seen } = await expectAllowed(h, withPosture(await mint(GOOD_POSTURE)));
    expect(line).toMatchObject({
      route: "app",
      identitySource: "certificate",
      deviceId: "device-7f3a",
      deviceIssuer: "mdm",
    });
    expect(seen.headers["x-posture-token"]).toBeUndefined();
  });

  it("compares osVersion as a dotted version: 14.10 is newer than 14.2", async () => {
    const token = await mint({ ...GOOD_POSTURE, osVersion: "14.10" });
    const { line } = await expectAllowed(h, withPosture(token));
    expect(line.deviceId).toBe("device-7f3a");
  });

  it("refuses an unmanaged device with posture-failed", async () => {
    const token = await mint({ ...GOOD_POSTURE, managed: false });
    const line = await expectDenied(h, withPosture(token), 403);
    expect(line).toMatchObject({
      reasons: ["no-matching-rule", "posture-failed"],
      deviceId: "device-7f3a",
    });
    expect(line.detail).toEqual(["allow[0]: device.managed eq true"]);
  });

  it("refuses an OS older than 14.2 with posture-failed", async () => {
    const token = await mint({ ...GOOD_POSTURE, osVersion: "14.1.9" });
    const line = await expectDenied(h, withPosture(token), 403);
    expect(line.reasons).toEqual(["no-matching-rule", "posture-failed"]);
    expect(line.detail).toEqual(["allow[0]: device.osVersion gte 14.2"]);
  });

  it.each([
    ['managed is the string "true"', { managed: "true" }],
    ["diskEncrypted is 1", { diskEncrypted: 1 }],
    ["osVersion is no dotted version", { osVersion: "14.2-beta" }],
  ])(
    "answers 401 posture-invalid to a signed token whose %s: no partial posture",
    async (_what, wrong) => {
      const token = await mint({ ...GOOD_POSTURE, ...wrong });
      const line = await expectDenied(h, withPosture(token), 401);
      expect(line.reasons).toEqual(["posture-invalid"]);
      expect(line.deviceId).toBeUndefined();
    },
  );

  it("refuses a statement made 20 minutes ago as stale, though the token is still valid", async () => {
    const token = await mint(GOOD_POSTURE, {
      iat: Math.floor(Date.now() / 1000) - 20 * MINUTE_S,
      lifetime: 2 * 60 * MINUTE_S,
    });
    const line = await expectDenied(h, withPosture(token), 403);
    expect(line).toMatchObject({
      reasons: ["no-matching-rule", "posture-stale"],
      deviceId: "device-7f3a",
    });
    expect(line.detail).toEqual(["allow[0]: device.age lt 10m"]);
  });

  it("refuses a request without a posture token with posture-missing", async () => {
    const line = await expectDenied(h, { as: h.pki.clients.alice, path: "/app/home" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "posture-missing"]);
    expect(line.deviceId).toBeUndefined();
  });

  it("answers 401 token-invalid to a posture token signed by another key", async () => {
    const forger = await createSigningKey("ES256", "mdm-1");
    const token = await mintToken(forger, GOOD_POSTURE, ISSUED);
    const line = await expectDenied(h, withPosture(token), 401);
    expect(line.reasons).toEqual(["token-invalid"]);
  });
});
