/**
 * Self-signed "attested TLS" client certificates for tests: the key pair comes first
 * (so evidence can bind its SubjectPublicKeyInfo), then the certificate is issued for
 * that key with the evidence extensions given. Keys are made at run time only.
 */
import { webcrypto } from "node:crypto";
import { x509 } from "../../../src/crypto/x509.js";

/** A P-256 key pair and its DER SubjectPublicKeyInfo. */
export interface AttestedKey {
  readonly keys: CryptoKeyPair;
  readonly spki: Buffer;
}

/** A fresh P-256 key pair. */
export async function makeAttestedKey(): Promise<AttestedKey> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
  return { keys, spki };
}

/** What goes into an attested certificate. */
export interface AttestedCertificateSpec {
  readonly key: AttestedKey;
  /** Extensions by OID and extnValue content. */
  readonly extensions?: readonly { readonly oid: string; readonly value: Uint8Array }[];
  /** SAN dNSNames. */
  readonly dnsNames?: readonly string[];
  /** Default: one minute ago. */
  readonly notBefore?: Date;
}

/** Issues a self-signed certificate (DER) for `spec.key` carrying the given extensions. */
export async function issueAttestedCertificate(spec: AttestedCertificateSpec): Promise<Buffer> {
  const notBefore = spec.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const extensions: x509.Extension[] = (spec.extensions ?? []).map(
    ({ oid, value }) => new x509.Extension(oid, false, Buffer.from(value)),
  );
  if (spec.dnsNames !== undefined) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        spec.dnsNames.map((value) => ({ type: "dns" as const, value })),
      ),
    );
  }
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01" + webcrypto.getRandomValues(Buffer.alloc(8)).toString("hex"),
    name: "CN=attested enclave, O=verigate tests",
    notBefore,
    notAfter: new Date(notBefore.getTime() + 86_400_000),
    keys: spec.key.keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions,
  });
  return Buffer.from(certificate.rawData);
}

/** CBOR in preferred serialization (what verigate's strict decoder accepts). */
export { cbor } from "../cbor-encode.js";

/** DER OCTET STRING around `content` (short or long form length). */
export function derOctetString(content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x04]), derLength(content.length), content]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
