/**
 * Genuine-shaped AWS Nitro attestation documents for tests, signed by a TEST PKI made
 * at run time (no key is ever committed). The PKI mirrors AWS's: an EC P-384 root
 * (CA, no path length), a "regional" CA (pathLen 2), a "zonal" CA (pathLen 1) and an
 * "instance" CA (pathLen 0) that issues one short-lived leaf per document, valid from
 * three seconds before the document's timestamp to three hours after, as AWS does.
 *
 * Documents are encoded with cbor-x and signed with WebCrypto (ECDSA P-384, SHA-384,
 * r || s), so they check the verifier against an independent encoder. Verify them with
 * `createNitroVerifier({ root: pki.rootPem })`; the built-in AWS root refuses them.
 */
import { createHash, webcrypto } from "node:crypto";
import { cbor, Tag } from "../cbor-encode.js";
import { x509 } from "../../../src/crypto/x509.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const ES384 = -35;

/** A certificate of the test PKI with its key pair (made at run time only). */
export interface TestCertificate {
  readonly der: Buffer;
  readonly pem: string;
  readonly keys: CryptoKeyPair;
  readonly certificate: x509.X509Certificate;
}

/** What `issueTestCertificate` puts in a certificate. */
export interface TestCertificateSpec {
  readonly commonName: string;
  /** The issuing CA; absent: self-signed. */
  readonly issuer?: TestCertificate;
  readonly isCa: boolean;
  readonly pathLength?: number;
  /** Default: keyCertSign and cRLSign (critical) for a CA, digitalSignature for a leaf. */
  readonly keyUsage?: "ca" | "signing" | "none";
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Default P-384, as AWS. */
  readonly curve?: "P-384" | "P-256";
  /** Default SHA-384, as AWS. */
  readonly hash?: "SHA-384" | "SHA-256";
  /** Appended as given (e.g. an unknown critical extension). */
  readonly extraExtensions?: readonly x509.Extension[];
}

/** Issues one certificate (P-384, ecdsa-with-SHA384 unless told otherwise). */
export async function issueTestCertificate(spec: TestCertificateSpec): Promise<TestCertificate> {
  const curve = spec.curve ?? "P-384";
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, [
    "sign",
    "verify",
  ]);
  const signingAlgorithm = { name: "ECDSA", hash: spec.hash ?? "SHA-384" };
  const usage = spec.keyUsage ?? (spec.isCa ? "ca" : "signing");
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(spec.isCa, spec.pathLength, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (usage === "ca") {
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    );
  } else if (usage === "signing") {
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
      ),
    );
  }
  const common = {
    serialNumber: webcrypto.getRandomValues(Buffer.alloc(8)).toString("hex").replace(/^./, "1"),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm,
  };
  let certificate: x509.X509Certificate;
  if (spec.issuer === undefined) {
    certificate = await x509.X509CertificateGenerator.createSelfSigned({
      ...common,
      name: `CN=${spec.commonName}, O=verigate tests`,
      keys,
      extensions: [...extensions, ...(spec.extraExtensions ?? [])],
    });
  } else {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.keys.publicKey));
    certificate = await x509.X509CertificateGenerator.create({
      ...common,
      subject: `CN=${spec.commonName}, O=verigate tests`,
      issuer: spec.issuer.certificate.subjectName,
      publicKey: keys.publicKey,
      signingKey: spec.issuer.keys.privateKey,
      extensions: [...extensions, ...(spec.extraExtensions ?? [])],
    });
  }
  return {
    der: Buffer.from(certificate.rawData),
    pem: certificate.toString("pem"),
    keys,
    certificate,
  };
}

/** What a test document says. Every field has a genuine-looking default. */
export interface NitroDocumentSpec {
  /** Merged over the defaults (PCR0-15, 48 bytes; PCR0-2 non-zero unless `debug`). */
  readonly pcrs?: Readonly<Record<number, Uint8Array>>;
  /** PCR0, PCR1 and PCR2 all zero, as in an enclave run with --debug-mode. */
  readonly debug?: boolean;
  /** Absent or null: written as null, as the NSM does. */
  readonly userData?: Uint8Array | null;
  readonly nonce?: Uint8Array | null;
  readonly publicKey?: Uint8Array | null;
  /** Milliseconds since the epoch. Default: now. */
  readonly timestamp?: number;
  readonly moduleId?: string;
  /** Wrap the COSE_Sign1 in CBOR tag 18. Default false (the NSM does not tag). */
  readonly tagged?: boolean;
  /** UNSAFE, for refusal tests: edits the payload map just before it is encoded and signed. */
  readonly editPayload?: (payload: Map<string, unknown>) => void;
  /** UNSAFE, for refusal tests: the protected header to sign instead of `{1: -35}`. */
  readonly protectedHeader?: ReadonlyMap<number, unknown>;
  /** UNSAFE, for refusal tests: the leaf's validity instead of [timestamp - 3 s, + 3 h]. */
  readonly leafValidity?: { readonly notBefore: Date; readonly notAfter: Date };
}

/** A test Nitro PKI: pin `rootPem`, make documents with `makeNitroDocument`. */
export interface NitroTestPki {
  readonly rootPem: string;
  readonly root: TestCertificate;
  /** The CA bundle every document carries, root first (DER). */
  readonly cabundle: readonly Buffer[];
  /** The CA that issues the per-document leaves. */
  readonly instanceCa: TestCertificate;
  /** A correctly signed COSE_Sign1 document with its own fresh leaf. */
  makeNitroDocument(spec?: NitroDocumentSpec): Promise<Buffer>;
}

/** A fresh test PKI; its CAs are valid from a year ago to a year ahead (root: 2019-2049). */
export async function createNitroTestPki(): Promise<NitroTestPki> {
  const now = Date.now();
  const caValidity = {
    notBefore: new Date(now - 365 * DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
  };
  const root = await issueTestCertificate({
    commonName: "test.nitro-enclaves",
    isCa: true,
    notBefore: new Date("2019-10-28T13:28:05Z"),
    notAfter: new Date("2049-10-28T14:28:05Z"),
  });
  const regional = await issueTestCertificate({
    commonName: "regional.test.nitro-enclaves",
    issuer: root,
    isCa: true,
    pathLength: 2,
    ...caValidity,
  });
  const zonal = await issueTestCertificate({
    commonName: "zonal.test.nitro-enclaves",
    issuer: regional,
    isCa: true,
    pathLength: 1,
    ...caValidity,
  });
  const instanceCa = await issueTestCertificate({
    commonName: "instance.test.nitro-enclaves",
    issuer: zonal,
    isCa: true,
    pathLength: 0,
    ...caValidity,
  });
  const cabundle = [root.der, regional.der, zonal.der, instanceCa.der];
  return {
    rootPem: root.pem,
    root,
    cabundle,
    instanceCa,
    makeNitroDocument: (spec = {}) => signNitroDocument(instanceCa, cabundle, spec),
  };
}

let shared: Promise<NitroTestPki> | undefined;

/** One test PKI per worker process, made on first use. */
export function sharedNitroTestPki(): Promise<NitroTestPki> {
  shared ??= createNitroTestPki();
  return shared;
}

/** `makeNitroDocument` of the shared test PKI (pin `(await sharedNitroTestPki()).rootPem`). */
export async function makeNitroDocument(spec: NitroDocumentSpec = {}): Promise<Buffer> {
  return (await sharedNitroTestPki()).makeNitroDocument(spec);
}

/** PCR0-15 as the NSM reports them: 48 bytes each, most of them zero. */
function defaultPcrs(debug: boolean): Map<number, Buffer> {
  const pcrs = new Map<number, Buffer>();
  for (let index = 0; index < 16; index++) pcrs.set(index, Buffer.alloc(48));
  if (!debug) {
    for (const index of [0, 1, 2]) {
      pcrs.set(index, createHash("sha384").update(`verigate test enclave PCR${index}`).digest());
    }
  }
  pcrs.set(4, createHash("sha384").update("verigate test parent instance").digest());
  return pcrs;
}

const encoder = cbor;

async function signNitroDocument(
  instanceCa: TestCertificate,
  cabundle: readonly Buffer[],
  spec: NitroDocumentSpec,
): Promise<Buffer> {
  const timestamp = spec.timestamp ?? Date.now();
  const leaf = await issueTestCertificate({
    commonName: "i-0123456789abcdef0-enc0123456789abcdef.test",
    issuer: instanceCa,
    isCa: false,
    notBefore: spec.leafValidity?.notBefore ?? new Date(timestamp - 3000),
    notAfter: spec.leafValidity?.notAfter ?? new Date(timestamp + 3 * HOUR_MS),
  });
  const pcrs = defaultPcrs(spec.debug ?? false);
  for (const [index, value] of Object.entries(spec.pcrs ?? {})) {
    pcrs.set(Number(index), Buffer.from(value));
  }
  const optional = (value: Uint8Array | null | undefined): Buffer | null =>
    value === undefined || value === null ? null : Buffer.from(value);
  const payload = new Map<string, unknown>([
    ["module_id", spec.moduleId ?? "i-0123456789abcdef0-enc0123456789abcdef"],
    ["digest", "SHA384"],
    // cbor-x writes a large JS number as a float64; a BigInt is written as an integer.
    ["timestamp", timestamp > 0xffffffff ? BigInt(timestamp) : timestamp],
    ["pcrs", pcrs],
    ["certificate", leaf.der],
    ["cabundle", [...cabundle]],
    ["public_key", optional(spec.publicKey)],
    ["user_data", optional(spec.userData)],
    ["nonce", optional(spec.nonce)],
  ]);
  spec.editPayload?.(payload);
  const protectedHeader = encoder.encode(new Map(spec.protectedHeader ?? [[1, ES384]]));
  const payloadBytes = encoder.encode(payload);
  const signature = Buffer.from(
    await webcrypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-384" },
      leaf.keys.privateKey,
      // Sig_structure (RFC 9052 section 4.4), encoded here rather than by verigate's code.
      encoder.encode(["Signature1", protectedHeader, Buffer.alloc(0), payloadBytes]),
    ),
  );
  const cose = [protectedHeader, new Map(), payloadBytes, signature];
  return encoder.encode(spec.tagged === true ? new Tag(cose, 18) : cose);
}
