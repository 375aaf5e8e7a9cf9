import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { LogLine } from "../support/audit-capture.js";
import { expectAllowed, expectDenied } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { TEST_MEASUREMENT, TEST_TEE_CLAIMS, type TestClientName } from "../support/pki.js";

const VOUCHING_ISSUERS = `issuers:
  - name: attest-ca
    kind: attestation
    ca: "{{attestationCA}}"
  - name: device-ca
    kind: posture
    ca: "{{attestationCA}}"
`;

const MEASUREMENTS = `measurements:
  test-tee: ["${TEST_MEASUREMENT}"]
`;

/**
 * - tee: the claims extension's TEE and device statements, as a payroll route would ask for them.
 * - dice: a DICE-attested device (platform `dice`, measurement from the first FWID).
 * - fresh: a TEE statement made within the hour (tee.age and device.age from the certificate).
 * - instant: an attestation no certificate can satisfy (younger than 1 ms).
 */
const ROUTES = `routes:
  - name: tee
    match: { host: app.test, pathPrefix: /tee/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.measurement: { inList: test-tee }
          tee.debug: false
          device.managed: true
  - name: dice
    match: { host: app.test, pathPrefix: /dice/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.platform: dice
          tee.measurement: { inList: test-tee }
          tee.debug: false
  - name: fresh
    match: { host: app.test, pathPrefix: /fresh/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.measurement: { inList: test-tee }
          tee.age: { lt: 1h }
          device.age: { lt: 1h }
  - name: instant
    match: { host: app.test, pathPrefix: /instant/ }
    upstream: "{{upstream}}"
    policy:
      allow:
        - tee.measurement: { inList: test-tee }
          tee.age: { lt: 1ms }
`;

const NO_CLAIMS = ["no-matching-rule", "attestation-missing", "posture-missing"];

function notesOf(line: LogLine): string[] {
  const notes = line.notes;
  expect(Array.isArray(notes), "the audit line carries notes").toBe(true);
  return notes as string[];
}

describe("device and TEE claims in a client certificate, with vouching issuers", () => {
  let h: GatewayHarness;
  /** TEST_TEE_CLAIMS from the attestation CA, issued (notBefore) two hours ago. */
  let oldStatement: IssuedCertificate;
  const as = (name: TestClientName): IssuedCertificate => h.pki.clients[name];

  beforeAll(async () => {
    h = await startGateway({ extra: VOUCHING_ISSUERS + MEASUREMENTS, routes: ROUTES });
    oldStatement = await h.pki.attestationCa.issue({
      commonName: "old-statement",
      organization: "Corp Test",
      uris: ["spiffe://corp.test/user/old-statement"],
      notBefore: new Date(Date.now() - 2 * 3_600_000),
      claims: TEST_TEE_CLAIMS,
    });
  });
  afterAll(() => h.close());

  it("believes teeGood's statement: allowed, and the audit line names who vouched and what was measured", async () => {
    const { line } = await expectAllowed(h, { as: as("teeGood"), path: "/tee/run" });
    expect(line).toMatchObject({
      route: "tee",
      identitySource: "certificate",
      teeIssuer: "attest-ca",
      teePlatform: "sev-snp",
      teeMeasurement: TEST_MEASUREMENT,
      deviceIssuer: "device-ca",
    });
    expect(line.notes).toBeUndefined();
  });

  it("refuses teeDebug, vouched for but running with debugging on", async () => {
    const line = await expectDenied(h, { as: as("teeDebug"), path: "/tee/run" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "attestation-debug-enabled"]);
    expect(line.detail).toEqual(["allow[0]: tee.debug eq false"]);
    expect(line).toMatchObject({ teeIssuer: "attest-ca", teeMeasurement: TEST_MEASUREMENT });
  });

  it("ignores the same claims issued by a CA that vouches for nothing, and says so", async () => {
    const line = await expectDenied(
      h,
      { as: as("claimsFromNonVouchingCa"), path: "/tee/run" },
      403,
    );
    expect(line.reasons).toEqual(NO_CLAIMS);
    expect(line).toMatchObject({ identitySource: "certificate" });
    expect(line.teeIssuer).toBeUndefined();
    expect(line.teeMeasurement).toBeUndefined();
    expect(line.deviceIssuer).toBeUndefined();
    const notes = notesOf(line);
    expect(notes).toContainEqual(
      expect.stringMatching(
        /device\.\* ignored: no posture issuer vouches for .*claims-from-non-vouching-ca/,
      ),
    );
    expect(notes).toContainEqual(
      expect.stringMatching(
        /tee\.\* ignored: no attestation issuer vouches for .*claims-from-non-vouching-ca/,
      ),
    );
  });

  it.each([
    ["malformedClaims", /verigate claims extension: ignored: tee\.debug must be a boolean/],
    ["junkClaims", /verigate claims extension: ignored: not a DER UTF8String/],
    ["nvidiaLayout", /DICE TcbInfo extension: ignored: not a DiceTcbInfo/],
  ] as const)(
    "takes no claims from %s (a malformed extension), notes why, and keeps serving",
    async (name, note) => {
      const line = await expectDenied(h, { as: as(name), path: "/tee/run" }, 403);
      expect(line.reasons).toEqual(NO_CLAIMS);
      expect(line.identitySource).toBe("certificate");
      expect(line.teeMeasurement).toBeUndefined();
      expect(notesOf(line)).toContainEqual(expect.stringMatching(note));
      // The gateway survived the malformed extension: the next client is served as ever.
      await expectAllowed(h, { as: as("teeGood"), path: "/tee/run" });
    },
  );

  it("reads diceGood's measurement from its DICE FWID, on platform dice", async () => {
    const { line } = await expectAllowed(h, { as: as("diceGood"), path: "/dice/boot" });
    expect(line).toMatchObject({
      route: "dice",
      teePlatform: "dice",
      teeMeasurement: TEST_MEASUREMENT,
      teeIssuer: "attest-ca",
    });
  });

  it("gives diceGood TEE claims but no device claims: a DICE certificate says nothing about posture", async () => {
    const line = await expectDenied(h, { as: as("diceGood"), path: "/tee/run" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "posture-missing"]);
    expect(line.detail).toEqual(["allow[0]: device.managed eq true"]);
  });

  it("refuses diceDebug, whose DICE flags have debug on", async () => {
    const line = await expectDenied(h, { as: as("diceDebug"), path: "/dice/boot" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "attestation-debug-enabled"]);
    expect(line.detail).toEqual(["allow[0]: tee.debug eq false"]);
  });

  it("lets a statement issued within the hour through a route demanding tee.age < 1h", async () => {
    const { line } = await expectAllowed(h, { as: as("teeGood"), path: "/fresh/x" });
    expect(line).toMatchObject({ route: "fresh", teeIssuer: "attest-ca" });
  });

  it("refuses a vouched-for statement issued two hours ago as stale, for TEE and device alike", async () => {
    const line = await expectDenied(h, { as: oldStatement, path: "/fresh/x" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "attestation-stale", "posture-stale"]);
    expect(line.detail).toEqual(["allow[0]: tee.age lt 1h", "allow[0]: device.age lt 1h"]);
    // Everything else about it is believed: only its age fails.
    expect(line).toMatchObject({ teeIssuer: "attest-ca", teeMeasurement: TEST_MEASUREMENT });
    expect(line.notes).toBeUndefined();
  });

  it("refuses even teeGood where the route demands an attestation younger than 1 ms", async () => {
    const line = await expectDenied(h, { as: as("teeGood"), path: "/instant/x" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "attestation-stale"]);
    expect(line.detail).toEqual(["allow[0]: tee.age lt 1ms"]);
  });
});

describe("device and TEE claims in a client certificate, without vouching issuers", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ extra: MEASUREMENTS, routes: ROUTES });
  });
  afterAll(() => h.close());

  it("ignores teeGood's claims when no issuer is configured, and says so", async () => {
    const line = await expectDenied(h, { as: h.pki.clients.teeGood, path: "/tee/run" }, 403);
    expect(line.reasons).toEqual(NO_CLAIMS);
    expect(line.teeIssuer).toBeUndefined();
    expect(line.deviceIssuer).toBeUndefined();
    const notes = notesOf(line);
    expect(notes).toContainEqual(expect.stringMatching(/device\.\* ignored: no posture issuer/));
    expect(notes).toContainEqual(expect.stringMatching(/tee\.\* ignored: no attestation issuer/));
  });

  it("ignores diceGood's DICE measurement too", async () => {
    const line = await expectDenied(h, { as: h.pki.clients.diceGood, path: "/dice/boot" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "attestation-missing"]);
    expect(notesOf(line)).toContainEqual(
      expect.stringMatching(/DICE TcbInfo extension: tee\.\* ignored: no attestation issuer/),
    );
  });
});

describe("device and TEE claims in a client certificate, with an attestation issuer only", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({
      extra: `issuers:
  - name: attest-ca
    kind: attestation
    ca: "{{attestationCA}}"
${MEASUREMENTS}`,
      routes: ROUTES,
    });
  });
  afterAll(() => h.close());

  it("believes tee.* but not device.*: an attestation CA does not vouch for posture", async () => {
    const line = await expectDenied(h, { as: h.pki.clients.teeGood, path: "/tee/run" }, 403);
    expect(line.reasons).toEqual(["no-matching-rule", "posture-missing"]);
    expect(line).toMatchObject({ teeIssuer: "attest-ca", teeMeasurement: TEST_MEASUREMENT });
    expect(line.deviceIssuer).toBeUndefined();
    expect(notesOf(line)).toContainEqual(
      expect.stringMatching(/device\.\* ignored: no posture issuer vouches/),
    );
  });
});
