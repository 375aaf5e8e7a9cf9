import { webcrypto, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildSignaturePath,
  findVouchingIssuer,
  MAX_PATH_LENGTH,
  MAX_PEER_CERTIFICATES,
  type VouchingIssuer,
} from "../../../src/claims/certificate-vouching.js";
import { x509 } from "../../../src/crypto/x509.js";
import {
  createCertificateAuthority,
  type CertificateAuthority,
  type IssuedCertificate,
} from "../../../src/dev-pki/certificate-authority.js";
import { createTestPki, TEST_TEE_CLAIMS, type TestPki } from "../../support/pki.js";

/** DER of every certificate in a PEM bundle, in order. */
function derOf(pem: string): Buffer[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block).raw,
  );
}
const nodeCert = (pem: string): X509Certificate => new X509Certificate(pem);
const attestation = (name: string, ...cas: X509Certificate[]): VouchingIssuer => ({
  name,
  kind: "attestation",
  cas,
});

function vouchingName(
  chain: readonly Buffer[],
  issuers: readonly VouchingIssuer[],
  now = Date.now(),
): string | undefined {
  return findVouchingIssuer(buildSignaturePath(chain, now), issuers, "attestation", now)?.name;
}

describe("vouching by signature", () => {
  let pki: TestPki;
  let attestationCa: X509Certificate;
  let teeGood: IssuedCertificate;
  beforeAll(async () => {
    pki = await createTestPki();
    attestationCa = nodeCert(pki.attestationCa.certPem);
    teeGood = pki.clients.teeGood;
  });

  it("builds the path leaf first, each certificate signed by the next", () => {
    const path = buildSignaturePath(derOf(teeGood.chainPem), Date.now());
    expect(path.notes).toEqual([]);
    expect(path.certificates.map((c) => c.subject)).toEqual([
      "O=Corp Test\nCN=tee-good",
      "CN=verigate test attestation CA",
    ]);
  });

  it("the issuing CA vouches, whether or not the peer sent it", () => {
    const issuers = [attestation("att", attestationCa)];
    expect(vouchingName(derOf(teeGood.chainPem), issuers)).toBe("att");
    expect(vouchingName(derOf(teeGood.certPem), issuers)).toBe("att");
  });

  it("a root vouches for what chains to it, but only through peer-sent intermediates", () => {
    const issuers = [attestation("root", nodeCert(pki.ca.certPem))];
    expect(vouchingName(derOf(teeGood.chainPem), issuers)).toBe("root");
    expect(vouchingName(derOf(teeGood.certPem), issuers)).toBeUndefined();
  });

  it("does not depend on the order of the peer-sent certificates, and skips junk", () => {
    const chain = [
      teeGood.certificate.rawData,
      pki.otherCa.certificate.rawData,
      pki.intermediate.certificate.rawData,
      pki.attestationCa.certificate.rawData,
    ].map((raw) => Buffer.from(raw));
    const issuers = [attestation("root", nodeCert(pki.ca.certPem))];
    expect(vouchingName([...chain, Buffer.from("junk")], issuers)).toBe("root");
    expect(buildSignaturePath([...chain, Buffer.from("junk")], Date.now()).notes).toEqual([
      "a peer certificate cannot be parsed: ignored",
    ]);
  });

  it("takes the first issuer of the kind, in configuration order, and ignores other kinds", () => {
    const issuers: VouchingIssuer[] = [
      { name: "id", kind: "identity", cas: [attestationCa] },
      { name: "posture", kind: "posture", cas: [attestationCa] },
      attestation("unrelated", nodeCert(pki.otherCa.certPem)),
      attestation("first", attestationCa),
      attestation("second", attestationCa),
    ];
    expect(vouchingName(derOf(teeGood.chainPem), issuers)).toBe("first");
    const path = buildSignaturePath(derOf(teeGood.chainPem), Date.now());
    expect(findVouchingIssuer(path, issuers, "posture", Date.now())?.name).toBe("posture");
  });

  it("a configured 'CA' that is not a CA certificate vouches for nothing", () => {
    // A CA:false certificate configured as `ca` (here the leaf itself, so its DER
    // matches the path) must never count.
    const issuers = [attestation("leaf-as-ca", nodeCert(pki.clients.teeGood.certPem))];
    expect(vouchingName(derOf(teeGood.chainPem), issuers)).toBeUndefined();
  });

  it("a leaf not valid at `now` has no path at all", () => {
    const notAfter = Date.parse(nodeCert(teeGood.certPem).validTo);
    const path = buildSignaturePath(derOf(teeGood.chainPem), notAfter + 1000);
    expect(path).toEqual({ certificates: [], notes: ["the leaf certificate is not valid now"] });
    expect(
      findVouchingIssuer(path, [attestation("att", attestationCa)], "attestation", notAfter + 1000),
    ).toBeUndefined();
    expect(buildSignaturePath([Buffer.from("junk")], Date.now()).notes).toEqual([
      "the leaf certificate cannot be parsed",
    ]);
    expect(buildSignaturePath([], Date.now()).certificates).toEqual([]);
  });

  it("looks at no more than MAX_PEER_CERTIFICATES peer certificates", () => {
    const filler = Array<Buffer>(MAX_PEER_CERTIFICATES).fill(
      Buffer.from(pki.otherCa.certificate.rawData),
    );
    const chain = [
      Buffer.from(teeGood.certificate.rawData),
      ...filler,
      Buffer.from(pki.attestationCa.certificate.rawData),
    ];
    const path = buildSignaturePath(chain, Date.now());
    expect(path.certificates).toHaveLength(1);
    expect(path.notes).toEqual([
      `only the first ${MAX_PEER_CERTIFICATES} peer certificates were considered`,
    ]);
    expect(vouchingName(chain, [attestation("root", nodeCert(pki.ca.certPem))])).toBeUndefined();
  });
});

describe("forgeries: names prove nothing", () => {
  let pki: TestPki;
  let attestationCa: X509Certificate;
  let fakeCa: CertificateAuthority;
  let forged: IssuedCertificate;
  beforeAll(async () => {
    pki = await createTestPki();
    attestationCa = nodeCert(pki.attestationCa.certPem);
    // Same subject as the real attestation CA, different key.
    fakeCa = await createCertificateAuthority({ commonName: "verigate test attestation CA" });
    forged = await fakeCa.issue({ commonName: "mallory", claims: TEST_TEE_CLAIMS });
  });

  it("a peer-sent CA certificate with the right subject and another key does not vouch", () => {
    expect(fakeCa.certificate.subject).toBe(pki.attestationCa.certificate.subject);
    const chain = [forged.certificate.rawData, fakeCa.certificate.rawData].map((r) =>
      Buffer.from(r),
    );
    const issuers = [
      attestation("att", attestationCa),
      attestation("root", nodeCert(pki.ca.certPem)),
    ];
    expect(buildSignaturePath(chain, Date.now()).certificates).toHaveLength(2);
    expect(vouchingName(chain, issuers)).toBeUndefined();
  });

  it("sending the real CA certificate alongside does not help", () => {
    const chain = [
      forged.certificate.rawData,
      pki.attestationCa.certificate.rawData,
      fakeCa.certificate.rawData,
    ].map((r) => Buffer.from(r));
    const issuers = [
      attestation("att", attestationCa),
      attestation("root", nodeCert(pki.ca.certPem)),
    ];
    const path = buildSignaturePath(chain, Date.now());
    expect(path.certificates.map((c) => c.raw.equals(attestationCa.raw))).toEqual([false, false]);
    expect(vouchingName(chain, issuers)).toBeUndefined();
  });

  it("a leaf of the attestation CA cannot issue for others: it is no CA", async () => {
    // mallory holds teeGood's key and signs a certificate naming teeGood as issuer.
    const teeGood = pki.clients.teeGood;
    const key = await webcrypto.subtle.importKey(
      "pkcs8",
      Buffer.from(teeGood.keyPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64"),
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign"],
    );
    const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    const chained = await x509.X509CertificateGenerator.create({
      serialNumber: "41",
      subject: "CN=mallory",
      issuer: teeGood.certificate.subjectName,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      publicKey: keys.publicKey,
      signingKey: key,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    const chain = [
      chained.rawData,
      teeGood.certificate.rawData,
      pki.attestationCa.certificate.rawData,
    ].map((r) => Buffer.from(r));
    const leaf = new X509Certificate(chain[0]!);
    expect(leaf.verify(nodeCert(teeGood.certPem).publicKey)).toBe(true);
    expect(buildSignaturePath(chain, Date.now()).certificates).toHaveLength(1);
    expect(vouchingName(chain, [attestation("att", attestationCa)])).toBeUndefined();
  });
});

describe("path length", () => {
  it(`walks at most ${MAX_PATH_LENGTH} certificates, the leaf included`, async () => {
    const root = await createCertificateAuthority({ commonName: "deep root" });
    const cas: CertificateAuthority[] = [];
    let issuer = root;
    for (let i = 1; i <= MAX_PATH_LENGTH; i++) {
      issuer = await issuer.issueIntermediate(`deep ${i}`, { pathLength: MAX_PATH_LENGTH });
      cas.push(issuer);
    }
    const leaf = await issuer.issue({ commonName: "deep leaf" });
    const chain = derOf(leaf.chainPem);
    expect(chain).toHaveLength(MAX_PATH_LENGTH + 1);
    const path = buildSignaturePath(chain, Date.now());
    expect(path.certificates).toHaveLength(MAX_PATH_LENGTH);
    // The walk ends at "deep 2": the root signed "deep 1", one step beyond; "deep 1"
    // signed "deep 2", which is on the path.
    expect(vouchingName(chain, [attestation("root", nodeCert(root.certPem))])).toBeUndefined();
    expect(vouchingName(chain, [attestation("deep1", nodeCert(cas[0]!.certPem))])).toBe("deep1");
    expect(vouchingName(chain, [attestation("deep2", nodeCert(cas[1]!.certPem))])).toBe("deep2");
  });
});
