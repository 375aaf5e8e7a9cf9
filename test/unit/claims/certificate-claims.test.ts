import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  claimsFromCertificate,
  type CertificateClaims,
  type VouchingIssuer,
} from "../../../src/claims/certificate-claims.js";
import { DICE_TCB_INFO_OID } from "../../../src/claims/dice-tcb-info.js";
import { VERIGATE_CLAIMS_OID } from "../../../src/claims/verigate-claims-extension.js";
import {
  createCertificateAuthority,
  type CertificateSpec,
  type IssuedCertificate,
} from "../../../src/dev-pki/certificate-authority.js";
import {
  createTestPki,
  der,
  TEST_CLIENT_NAMES,
  TEST_MEASUREMENT,
  TEST_TEE_CLAIMS,
  type TestClientName,
  type TestPki,
} from "../../support/pki.js";

const NVIDIA_CHAIN = new URL(
  "../../../../shared/vectors/dice/nvidia-hopper-cert-chain-case1.pem",
  import.meta.url,
);
const MINUTE = 60_000;

/** DER of every certificate in a PEM bundle, in order. */
function derOf(pem: string): Buffer[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block).raw,
  );
}

const NO_FLAGS = {
  notConfigured: false,
  notSecure: false,
  recovery: false,
  debug: false,
  notReplayProtected: false,
  notIntegrityProtected: false,
  notRuntimeMeasured: false,
  notImmutable: false,
  notTcb: false,
};

describe("claimsFromCertificate: the test clients", () => {
  let pki: TestPki;
  let issuers: VouchingIssuer[];
  beforeAll(async () => {
    pki = await createTestPki();
    const attestationCa = new X509Certificate(pki.attestationCa.certPem);
    issuers = [
      { name: "test-identity", kind: "identity", cas: [attestationCa] },
      { name: "test-posture", kind: "posture", cas: [attestationCa] },
      { name: "test-attestation", kind: "attestation", cas: [attestationCa] },
    ];
  });

  /** Claims of a test client, five minutes after its notBefore (so age is 300000). */
  const claimsOf = (name: TestClientName): CertificateClaims => {
    const client = pki.clients[name];
    return claimsFromCertificate(
      derOf(client.chainPem),
      issuers,
      client.certificate.notBefore.getTime() + 5 * MINUTE,
    );
  };
  const subjectOf = (name: TestClientName): string => pki.clients[name].certificate.subject;
  const age = 5 * MINUTE;
  const diceInfo = {
    vendor: "verigate test",
    model: "test tee",
    svn: 2,
    fwids: [{ hashAlg: "sha384", digest: TEST_MEASUREMENT }],
  };

  const EXPECTED: Partial<Record<TestClientName, (name: TestClientName) => CertificateClaims>> = {
    teeGood: () => ({
      device: { managed: true, compliant: true, diskEncrypted: true, issuer: "test-posture", age },
      tee: {
        platform: "sev-snp",
        measurement: TEST_MEASUREMENT,
        debug: false,
        tcbStatus: "UpToDate",
        issuer: "test-attestation",
        age,
        boundToClientCert: true,
      },
      notes: [],
    }),
    teeDebug: () => ({
      device: { managed: true, compliant: true, diskEncrypted: true, issuer: "test-posture", age },
      tee: {
        platform: "sev-snp",
        measurement: TEST_MEASUREMENT,
        debug: true,
        tcbStatus: "UpToDate",
        issuer: "test-attestation",
        age,
        boundToClientCert: true,
      },
      notes: [],
    }),
    diceGood: () => ({
      tee: {
        platform: "dice",
        measurement: TEST_MEASUREMENT,
        debug: false,
        svn: 2,
        issuer: "test-attestation",
        age,
        boundToClientCert: true,
        claims: { dice: { ...diceInfo, flags: NO_FLAGS } },
      },
      notes: [],
    }),
    diceDebug: () => ({
      tee: {
        platform: "dice",
        measurement: TEST_MEASUREMENT,
        debug: true,
        svn: 2,
        issuer: "test-attestation",
        age,
        boundToClientCert: true,
        claims: { dice: { ...diceInfo, flags: { ...NO_FLAGS, debug: true } } },
      },
      notes: [],
    }),
    claimsFromNonVouchingCa: (name) => ({
      notes: [
        `verigate claims extension: device.* ignored: no posture issuer vouches for ${subjectOf(name)}`,
        `verigate claims extension: tee.* ignored: no attestation issuer vouches for ${subjectOf(name)}`,
      ],
    }),
    malformedClaims: () => ({
      notes: ["verigate claims extension: ignored: tee.debug must be a boolean"],
    }),
    junkClaims: () => ({
      notes: [
        "verigate claims extension: ignored: not a DER UTF8String: multi-byte tags are not supported",
      ],
    }),
    nvidiaLayout: () => ({
      notes: ["DICE TcbInfo extension: ignored: not a DiceTcbInfo: unexpected tag 0x02"],
    }),
  };

  it.each(TEST_CLIENT_NAMES.map((name) => [name]))("%s", (name) => {
    // Clients without claims extensions (alice ... viaIntermediate) yield nothing, silently.
    const expected = EXPECTED[name]?.(name) ?? { notes: [] };
    expect(claimsOf(name)).toEqual(expected);
  });

  it("the result is frozen", () => {
    const claims = claimsOf("teeGood");
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.tee)).toBe(true);
    expect(Object.isFrozen(claims.notes)).toBe(true);
  });

  it("a root CA vouches for claims that chain to it through the intermediate", () => {
    const root = new X509Certificate(pki.ca.certPem);
    const rootIssuers: VouchingIssuer[] = [
      { name: "corp-posture", kind: "posture", cas: [root] },
      { name: "corp-attestation", kind: "attestation", cas: [root] },
    ];
    const client = pki.clients.claimsFromNonVouchingCa;
    const claims = claimsFromCertificate(derOf(client.chainPem), rootIssuers, Date.now());
    expect(claims.device?.issuer).toBe("corp-posture");
    expect(claims.tee?.issuer).toBe("corp-attestation");
    expect(claims.notes).toEqual([]);
  });

  it("keeps what a vouching issuer covers and drops the rest, with a note", () => {
    const postureOnly = issuers.filter((issuer) => issuer.kind === "posture");
    const client = pki.clients.teeGood;
    const claims = claimsFromCertificate(derOf(client.chainPem), postureOnly, Date.now());
    expect(claims.device?.managed).toBe(true);
    expect(claims.tee).toBeUndefined();
    expect(claims.notes).toEqual([
      `verigate claims extension: tee.* ignored: no attestation issuer vouches for ${client.certificate.subject}`,
    ]);
    const dice = pki.clients.diceGood;
    expect(claimsFromCertificate(derOf(dice.chainPem), postureOnly, Date.now())).toEqual({
      notes: [
        `DICE TcbInfo extension: tee.* ignored: no attestation issuer vouches for ${dice.certificate.subject}`,
      ],
    });
  });

  it("believes nothing once the leaf is no longer valid at `now`", () => {
    const client = pki.clients.teeGood;
    const later = client.certificate.notAfter.getTime() + MINUTE;
    expect(claimsFromCertificate(derOf(client.chainPem), issuers, later)).toEqual({
      notes: [
        "certificate claims: the leaf certificate is not valid now",
        `verigate claims extension: device.* ignored: no posture issuer vouches for ${client.certificate.subject}`,
        `verigate claims extension: tee.* ignored: no attestation issuer vouches for ${client.certificate.subject}`,
      ],
    });
  });

  it("a forged 'attestation CA' (right name, other key) sent by the peer vouches for nothing", async () => {
    const fakeCa = await createCertificateAuthority({ commonName: "verigate test attestation CA" });
    const forged = await fakeCa.issue({ commonName: "mallory", claims: TEST_TEE_CLAIMS });
    const chain = [
      forged.certificate.rawData,
      pki.attestationCa.certificate.rawData,
      fakeCa.certificate.rawData,
    ].map((raw) => Buffer.from(raw));
    const claims = claimsFromCertificate(chain, issuers, Date.now());
    expect(claims).toEqual({
      notes: [
        "verigate claims extension: device.* ignored: no posture issuer vouches for CN=mallory",
        "verigate claims extension: tee.* ignored: no attestation issuer vouches for CN=mallory",
      ],
    });
  });

  it("no certificate, or one that cannot be parsed, yields no claims", () => {
    expect(claimsFromCertificate([], issuers, Date.now())).toEqual({ notes: [] });
    expect(claimsFromCertificate([Buffer.from("junk")], issuers, Date.now())).toEqual({
      notes: ["the client certificate cannot be parsed: no device or TEE claims"],
    });
  });
});

describe("claimsFromCertificate: both extensions, duplicates, raw claims", () => {
  let pki: TestPki;
  let issuers: VouchingIssuer[];
  beforeAll(async () => {
    pki = await createTestPki();
    const attestationCa = new X509Certificate(pki.attestationCa.certPem);
    issuers = [
      { name: "test-posture", kind: "posture", cas: [attestationCa] },
      { name: "test-attestation", kind: "attestation", cas: [attestationCa] },
    ];
  });
  const issue = (spec: Omit<CertificateSpec, "commonName">): Promise<IssuedCertificate> =>
    pki.attestationCa.issue({ commonName: "both", ...spec });
  const teeOf = (issued: IssuedCertificate): CertificateClaims =>
    claimsFromCertificate(derOf(issued.chainPem), issuers, Date.now());
  const dice = (digest: string, debug: boolean) =>
    ({ fwids: [{ hashAlg: "sha384" as const, digest }], debug, svn: 3 }) as const;

  it("merges agreeing statements: the verigate extension names the platform, DICE fills in", async () => {
    const issued = await issue({
      claims: TEST_TEE_CLAIMS,
      diceTcbInfo: dice(TEST_MEASUREMENT, false),
    });
    const { tee, notes } = teeOf(issued);
    expect(notes).toEqual([]);
    expect(tee).toMatchObject({
      platform: "sev-snp",
      measurement: TEST_MEASUREMENT,
      debug: false,
      tcbStatus: "UpToDate",
      svn: 3,
      boundToClientCert: true,
      claims: { dice: { svn: 3, fwids: [{ hashAlg: "sha384", digest: TEST_MEASUREMENT }] } },
    });
  });

  it.each([
    ["debug", TEST_MEASUREMENT, true, "debug"],
    ["measurement", "00".repeat(48), false, "measurement"],
    ["measurement and debug", "00".repeat(48), true, "measurement, debug"],
  ])("refuses all tee.* when they disagree on %s", async (_name, digest, debug, fields) => {
    const issued = await issue({ claims: TEST_TEE_CLAIMS, diceTcbInfo: dice(digest, debug) });
    const claims = teeOf(issued);
    expect(claims.tee).toBeUndefined();
    // Posture does not depend on the TEE statements.
    expect(claims.device?.managed).toBe(true);
    expect(claims.notes).toEqual([
      `tee.* ignored: the verigate claims extension and the DICE TcbInfo extension disagree on ${fields}`,
    ]);
  });

  it("refuses an extension that appears twice", async () => {
    const value = der(0x0c, Buffer.from(JSON.stringify(TEST_TEE_CLAIMS)));
    const issued = await issue({
      rawExtensions: [
        { oid: VERIGATE_CLAIMS_OID, value },
        { oid: VERIGATE_CLAIMS_OID, value },
      ],
    });
    expect(teeOf(issued)).toEqual({
      notes: ["verigate claims extension: ignored: it appears more than once"],
    });
  });

  it("keeps unknown fields as raw claims and notes unknown top-level fields", async () => {
    const issued = await issue({
      rawExtensions: [
        {
          oid: VERIGATE_CLAIMS_OID,
          value: der(
            0x0c,
            Buffer.from(
              JSON.stringify({
                device: { managed: true, mdm: "intune" },
                tee: { platform: "tdx", "x-pcrs": [1, 2] },
                extra: 1,
              }),
            ),
          ),
        },
      ],
    });
    const claims = teeOf(issued);
    expect(claims.device).toMatchObject({ managed: true, claims: { mdm: "intune" } });
    expect(claims.tee).toMatchObject({ platform: "tdx", claims: { "x-pcrs": [1, 2] } });
    expect(claims.notes).toEqual([
      'verigate claims extension: unknown top-level field "extra" ignored',
    ]);
  });

  it("escapes control characters of the subject in notes", async () => {
    const issued = await pki.ca.issue({
      commonName: "evil\r\nx",
      claims: { device: { managed: true } },
    });
    // @peculiar/x509 writes CR as RFC 4514's \0D but leaves LF raw: verigate escapes it.
    expect(teeOf(issued).notes).toEqual([
      "verigate claims extension: device.* ignored: no posture issuer vouches for CN=evil\\0D\\u000ax",
    ]);
  });
});

describe("claimsFromCertificate: the NVIDIA Hopper vector", () => {
  it("the GH100 leaf's extension under the DICE OID is not a DiceTcbInfo: no claims, a note", async () => {
    const chain = derOf(await readFile(NVIDIA_CHAIN, "utf8"));
    expect(chain).toHaveLength(5);
    const root = new X509Certificate(chain[chain.length - 1]!);
    // Even an attestation issuer pinned on NVIDIA's own root gets nothing from it.
    const issuers: VouchingIssuer[] = [{ name: "nvidia", kind: "attestation", cas: [root] }];
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(claimsFromCertificate(chain, issuers, now)).toEqual({
      notes: ["DICE TcbInfo extension: ignored: not a DiceTcbInfo: unexpected tag 0x02"],
    });
  });
});

describe("property: arbitrary extension values never throw and never count when invalid", () => {
  let pki: TestPki;
  let issuers: VouchingIssuer[];
  beforeAll(async () => {
    pki = await createTestPki();
    const attestationCa = new X509Certificate(pki.attestationCa.certPem);
    issuers = [
      { name: "p", kind: "posture", cas: [attestationCa] },
      { name: "a", kind: "attestation", cas: [attestationCa] },
    ];
  });

  it.each([
    ["the verigate claims OID", VERIGATE_CLAIMS_OID],
    ["the DICE TcbInfo OID", DICE_TCB_INFO_OID],
  ])("under %s, inside real certificates", async (_name, oid) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 128 }), async (value) => {
        const issued = await pki.attestationCa.issue({
          commonName: "fuzz",
          rawExtensions: [{ oid, value }],
        });
        const claims = claimsFromCertificate(derOf(issued.chainPem), issuers, Date.now());
        expect(Array.isArray(claims.notes)).toBe(true);
        if (claims.tee === undefined && claims.device === undefined) {
          // Whatever was refused was said so (an empty DiceTcbInfo or {} says nothing).
          const empty = Buffer.from(value).toString("hex");
          if (!["3000", "0c027b7d"].includes(empty)) expect(claims.notes.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("on arbitrary chains of bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }), (chain) => {
        const claims = claimsFromCertificate(
          chain.map((bytes) => Buffer.from(bytes)),
          issuers,
          Date.now(),
        );
        expect(claims.device).toBeUndefined();
        expect(claims.tee).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
