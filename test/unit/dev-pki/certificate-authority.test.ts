import { once } from "node:events";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { readCertificateExtensions } from "../../../src/claims/certificate-extensions.js";
import { DICE_TCB_INFO_OID } from "../../../src/claims/dice-tcb-info.js";
import { VERIGATE_CLAIMS_OID } from "../../../src/claims/verigate-claims-extension.js";
import { x509 } from "../../../src/crypto/x509.js";
import {
  createTestPki,
  HOSTILE_SAN,
  TEST_CLIENT_NAMES,
  TEST_MEASUREMENT,
  TEST_TEE_CLAIMS,
} from "../../support/pki.js";
import type { TestClientName, TestPki } from "../../support/pki.js";

interface ServerVerdict {
  readonly authorized: boolean;
  readonly authorizationError: string | null;
}

/**
 * One real TLS handshake on loopback: the server asks for a client certificate but
 * lets any through (so we can read OpenSSL's verdict from `authorizationError`); the
 * client always verifies the server against the CA.
 */
async function handshake(
  pki: TestPki,
  client: { readonly certPem: string; readonly keyPem: string },
  crl: string | readonly string[] | undefined,
): Promise<ServerVerdict> {
  const server = tls.createServer({
    key: pki.server.keyPem,
    cert: pki.server.certPem,
    ca: pki.ca.certPem,
    ...(crl === undefined ? {} : { crl: typeof crl === "string" ? crl : [...crl] }),
    requestCert: true,
    rejectUnauthorized: false,
  });
  try {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const verdict = new Promise<ServerVerdict>((resolve) => {
      server.once("secureConnection", (socket: tls.TLSSocket) => {
        const error = socket.authorizationError as Error | string | null;
        resolve({
          authorized: socket.authorized,
          authorizationError: error === null ? null : String(error),
        });
        socket.destroy();
      });
    });
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: pki.ca.certPem,
      cert: client.certPem,
      key: client.keyPem,
    });
    socket.on("error", () => {
      // The server closing right after the handshake may surface as ECONNRESET.
    });
    try {
      await once(socket, "secureConnect");
      return await verdict;
    } finally {
      socket.destroy();
    }
  } finally {
    server.close();
  }
}

/** What OpenSSL 3.0 (Node 20) says of each client certificate, with `crl: pki.crls`. */
const EXPECTED: Record<TestClientName, ServerVerdict> = {
  alice: { authorized: true, authorizationError: null },
  bob: { authorized: true, authorizationError: null },
  viaIntermediate: { authorized: true, authorizationError: null },
  expired: { authorized: false, authorizationError: "CERT_HAS_EXPIRED" },
  notYetValid: { authorized: false, authorizationError: "CERT_NOT_YET_VALID" },
  revoked: { authorized: false, authorizationError: "CERT_REVOKED" },
  // The client was handed just the leaf: no issuer in the trust store for it.
  fromOtherCa: { authorized: false, authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
  // A TLS server checks the client against the "ssl_client" purpose.
  serverOnlyEku: { authorized: false, authorizationError: "INVALID_PURPOSE" },
  // OpenSSL reads a missing EKU as "any purpose": policy must not rely on TLS for it.
  noEku: { authorized: true, authorizationError: null },
  // OpenSSL does not look at SAN contents without name constraints: claims/ must.
  controlCharsInSan: { authorized: true, authorizationError: null },
  nulInSan: { authorized: true, authorizationError: null },
  // Claim carriers: OpenSSL ignores unknown non-critical extensions, whatever they hold.
  teeGood: { authorized: true, authorizationError: null },
  teeDebug: { authorized: true, authorizationError: null },
  diceGood: { authorized: true, authorizationError: null },
  diceDebug: { authorized: true, authorizationError: null },
  claimsFromNonVouchingCa: { authorized: true, authorizationError: null },
  malformedClaims: { authorized: true, authorizationError: null },
  junkClaims: { authorized: true, authorizationError: null },
  nvidiaLayout: { authorized: true, authorizationError: null },
};

describe("test PKI over a real TLS handshake", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it.each(TEST_CLIENT_NAMES.map((name) => [name]))("%s", async (name) => {
    const client = pki.clients[name];
    const verdict = await handshake(
      pki,
      { certPem: client.chainPem, keyPem: client.keyPem },
      pki.crls,
    );
    expect(verdict).toEqual(EXPECTED[name]);
  });

  it("revocation is checked only when a CRL is configured", async () => {
    const revoked = pki.clients.revoked;
    const client = { certPem: revoked.chainPem, keyPem: revoked.keyPem };
    expect(await handshake(pki, client, undefined)).toEqual(EXPECTED.alice);
    expect(await handshake(pki, client, pki.emptyCrls)).toEqual(EXPECTED.alice);
  });

  it("a chain through the intermediate needs the intermediate's CRL too", async () => {
    const via = pki.clients.viaIntermediate;
    const client = { certPem: via.chainPem, keyPem: via.keyPem };
    const unableToGetCrl = { authorized: false, authorizationError: "UNABLE_TO_GET_CRL" };
    expect(await handshake(pki, client, pki.crlPem)).toEqual(unableToGetCrl);
    // Node reads only the first PEM block of a `crl` string: a concatenated bundle
    // silently loses every CRL after the first.
    expect(await handshake(pki, client, pki.crlPem + pki.intermediateCrlPem)).toEqual(
      unableToGetCrl,
    );
  });

  it("an intermediate-issued leaf sent without its intermediate does not verify", async () => {
    const via = pki.clients.viaIntermediate;
    const verdict = await handshake(pki, { certPem: via.certPem, keyPem: via.keyPem }, pki.crls);
    expect(verdict).toEqual({
      authorized: false,
      authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
  });
});

describe("certificate contents", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  it("alice carries her subject, SANs, key identifiers and EKU", async () => {
    const cert = pki.clients.alice.certificate;
    expect(cert.subject).toBe("O=Corp Test, CN=alice");
    expect(cert.issuer).toBe(pki.ca.certificate.subject);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.names.toJSON()).toEqual([
      { type: "dns", value: "alice.devices.corp.test" },
      { type: "email", value: "alice@corp.test" },
      { type: "url", value: "spiffe://corp.test/user/alice" },
    ]);
    expect(cert.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
      ca: false,
      critical: true,
    });
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    const caKeyId = pki.ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(caKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caKeyId);
    expect(await cert.verify({ publicKey: pki.ca.certificate, signatureOnly: true })).toBe(true);
  });

  it("serials are 16 random positive bytes", () => {
    const serials = TEST_CLIENT_NAMES.map((name) => pki.clients[name].serialNumber);
    for (const serial of serials) expect(serial).toMatch(/^[4-7][0-9a-f]{31}$/);
    expect(new Set(serials).size).toBe(serials.length);
  });

  it("CAs are critical CA:true with keyCertSign and cRLSign", () => {
    for (const ca of [pki.ca, pki.intermediate, pki.attestationCa]) {
      expect(ca.certificate.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
        ca: true,
        critical: true,
      });
      expect(ca.certificate.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
      );
    }
    expect(
      pki.intermediate.certificate.getExtension(x509.BasicConstraintsExtension)?.pathLength,
    ).toBe(0);
    expect(pki.intermediate.chainPem).toBe(pki.intermediate.certPem);
    expect(pki.clients.viaIntermediate.chainPem).toBe(
      pki.clients.viaIntermediate.certPem + pki.intermediate.certPem,
    );
  });

  it("claims ride in the verigate extension: non-critical, a DER UTF8String of JSON", () => {
    const extensions = readCertificateExtensions(
      new Uint8Array(pki.clients.teeGood.certificate.rawData),
    );
    const claims = extensions.find((e) => e.oid === VERIGATE_CLAIMS_OID);
    const json = Buffer.from(JSON.stringify(TEST_TEE_CLAIMS));
    expect(claims?.isCritical).toBe(false);
    expect(json.length).toBeGreaterThan(127);
    expect(json.length).toBeLessThan(256);
    expect(Buffer.from(claims?.value ?? []).toString("hex")).toBe(
      `0c81${json.length.toString(16)}${json.toString("hex")}`,
    );
  });

  it("diceTcbInfo is encoded as DER DiceTcbInfo with IMPLICIT tags, in field order", () => {
    const tcbInfo = (name: "diceGood" | "diceDebug"): string | undefined => {
      const raw = new Uint8Array(pki.clients[name].certificate.rawData);
      const found = readCertificateExtensions(raw).find((e) => e.oid === DICE_TCB_INFO_OID);
      expect(found?.isCritical).toBe(false);
      return found === undefined ? undefined : Buffer.from(found.value).toString("hex");
    };
    const hex = (text: string): string => Buffer.from(text).toString("hex");
    const head =
      `80 0d ${hex("verigate test")} 81 08 ${hex("test tee")} 83 01 02 ` +
      `a6 3f 30 3d 06 09 608648016503040202 04 30 ${TEST_MEASUREMENT}`;
    // flags [7]: an empty named bit list, or debug (bit 3) with 4 unused bits.
    expect(tcbInfo("diceGood")).toBe(`3060 ${head} 87 01 00`.replace(/ /g, ""));
    expect(tcbInfo("diceDebug")).toBe(`3061 ${head} 87 02 04 10`.replace(/ /g, ""));
  });

  it("noEku has no EKU extension at all", () => {
    expect(pki.clients.noEku.certificate.getExtension(x509.ExtendedKeyUsageExtension)).toBeNull();
  });

  it("hostile SAN bytes come back raw from @peculiar/x509", () => {
    const names = pki.clients.controlCharsInSan.certificate
      .getExtension(x509.SubjectAlternativeNameExtension)
      ?.names.toJSON()
      .map((n) => n.value);
    expect(names).toEqual([
      HOSTILE_SAN.dnsCrlf,
      HOSTILE_SAN.dnsNul,
      HOSTILE_SAN.emailCrlf,
      HOSTILE_SAN.uriCrlf,
    ]);
  });

  it("the CRL names the revoked serial and carries AKI and a CRL number", async () => {
    expect(pki.crlPem).toMatch(/^-----BEGIN X509 CRL-----\n[\s\S]+\n-----END X509 CRL-----\n$/);
    const crl = new x509.X509Crl(pki.crlPem);
    expect(crl.entries.map((e) => e.serialNumber)).toEqual([pki.clients.revoked.serialNumber]);
    expect(crl.findRevoked(pki.clients.alice.serialNumber)).toBeNull();
    const caKeyId = pki.ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(crl.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caKeyId);
    expect(crl.entries[0]?.reason).toBe(x509.X509CrlReason.keyCompromise);
    // CRL numbers are DER INTEGERs, and successive CRLs of one CA get new ones.
    const crlNumber = (pem: string): string =>
      Buffer.from(
        new x509.X509Crl(pem).getExtension("2.5.29.20")?.value ?? new ArrayBuffer(0),
      ).toString("hex");
    expect(crlNumber(pki.crlPem)).toMatch(/^02010[12]$/);
    expect(crlNumber(pki.emptyCrlPem)).toMatch(/^02010[12]$/);
    expect(crlNumber(pki.emptyCrlPem)).not.toBe(crlNumber(pki.crlPem));
    expect(await crl.verify({ publicKey: pki.ca.certificate })).toBe(true);
    expect(new x509.X509Crl(pki.emptyCrlPem).entries).toEqual([]);
  });
});
