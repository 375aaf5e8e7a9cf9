/**
 * A TEST Intel-DCAP-shaped PKI, generated in memory at run time, and quotes and collateral
 * made with it: genuine-shaped, correctly signed TDX quotes that `createTdxVerifier({ root:
 * pki.rootPem })` verifies, for integration tests that need a fresh quote bound to their own
 * report data. No key is ever written anywhere.
 *
 * Layout (all EC P-256, like Intel's): a stand-in "Test SGX Root CA"; under it a PCK
 * Platform CA and a TCB signing certificate; under the Platform CA one PCK certificate
 * carrying the SGX extension (PPID, TCB components, PCESVN, CPUSVN, PCE ID, FMSPC, SGX
 * type). The CA, PCK and signer CNs are Intel's, because the verifier checks them; the
 * organization says "verigate test PKI", and the root is not Intel's, so nothing made here
 * verifies against the pinned Intel root.
 */
import {
  type KeyObject,
  KeyObject as NodeKeyObject,
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  webcrypto,
} from "node:crypto";
import type { TdxCollateralSources } from "../../../src/claims/evidence/tdx/tdx-collateral.js";
import { x509 } from "../../../src/crypto/x509.js";

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;
const ORGANIZATION = "verigate test PKI";
const SGX_EXTENSION_OID = "1.2.840.113741.1.13.1";

/** Intel's TD QE: what the verifier pins when it has no collateral. */
export const INTEL_TD_QE_MRSIGNER =
  "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5";
/** ATTRIBUTES of a production TD QE (INIT, MODE64BIT; no DEBUG). */
export const INTEL_TD_QE_ATTRIBUTES = "11000000000000000000000000000000";
/** Intel's QE vendor id. */
export const INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607";

/** The platform TCB written into the PCK certificate. */
export interface PckTcbSpec {
  /** 16 SGX TCB component SVNs. */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  /** 6 bytes, hex. */
  readonly fmspc: string;
  /** 2 bytes, hex. */
  readonly pceId: string;
}

/** The test PCK certificate's TCB (a current Sapphire-Rapids-like platform, test FMSPC). */
export const DEFAULT_PCK_TCB: PckTcbSpec = {
  sgxTcbComponents: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
  pceSvn: 13,
  fmspc: "7e57fa000000",
  pceId: "0000",
};

/** One signing identity of the test PKI. */
export interface TestCertificate {
  readonly certificate: x509.X509Certificate;
  readonly pem: string;
  /** For node:crypto signing. */
  readonly privateKey: KeyObject;
  /** For @peculiar/x509 signing. */
  readonly cryptoKey: CryptoKey;
}

/** The test PKI. */
export interface TdxTestPki {
  /** Give this to `createTdxVerifier({ root })` and `loadTdxCollateral(..., { root })`. */
  readonly rootPem: string;
  readonly root: TestCertificate;
  readonly platformCa: TestCertificate;
  readonly pck: TestCertificate;
  readonly tcbSigning: TestCertificate;
  readonly pckTcb: PckTcbSpec;
  /** PCK certificate, Platform CA, root: as a quote carries it. */
  readonly pckChainPem: string;
  /** TCB signing certificate, root: as PCS sends it with TCB info and QE identity. */
  readonly tcbSigningChainPem: string;
  /** Platform CA, root: as PCS sends it with the PCK CRL. */
  readonly pckCrlIssuerChainPem: string;
}

/** How `createTdxTestPki` dates its certificates and which TCB its PCK carries. */
export interface TdxTestPkiOptions {
  /** Default: yesterday. */
  readonly notBefore?: Date;
  /** Default: in a year. */
  readonly notAfter?: Date;
  readonly pckTcb?: PckTcbSpec;
}

let shared: Promise<TdxTestPki> | undefined;

/** The PKI shared by a worker's tests (memoized; tests must not depend on anything but its contents). */
export function tdxTestPki(): Promise<TdxTestPki> {
  shared ??= createTdxTestPki();
  return shared;
}

/** A fresh test PKI (for tests that need a second, unrelated root). */
export async function createTdxTestPki(options: TdxTestPkiOptions = {}): Promise<TdxTestPki> {
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY_MS);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * DAY_MS);
  const pckTcb = options.pckTcb ?? DEFAULT_PCK_TCB;
  const root = await issue({ name: "Test SGX Root CA", ca: true, notBefore, notAfter });
  const platformCa = await issue({
    name: "Intel SGX PCK Platform CA",
    ca: true,
    notBefore,
    notAfter,
    issuer: root,
  });
  const tcbSigning = await issue({
    name: "Intel SGX TCB Signing",
    ca: false,
    notBefore,
    notAfter,
    issuer: root,
  });
  const pck = await issue({
    name: "Intel SGX PCK Certificate",
    ca: false,
    notBefore,
    notAfter,
    issuer: platformCa,
    extensions: [
      new x509.Extension(SGX_EXTENSION_OID, false, new Uint8Array(sgxExtension(pckTcb))),
    ],
  });
  return {
    rootPem: root.pem,
    root,
    platformCa,
    pck,
    tcbSigning,
    pckTcb,
    pckChainPem: pck.pem + platformCa.pem + root.pem,
    tcbSigningChainPem: tcbSigning.pem + root.pem,
    pckCrlIssuerChainPem: platformCa.pem + root.pem,
  };
}

/** What goes into a test quote; everything has a sensible default. */
export interface TdxQuoteSpec {
  /** Default: the shared PKI. */
  readonly pki?: TdxTestPki;
  /** 4 (default) or 5. */
  readonly version?: 4 | 5;
  /** v5 only: 2 (TDX 1.0, default) or 3 (TDX 1.5). */
  readonly bodyType?: 2 | 3;
  /** 48 bytes, hex; default SHA-384("verigate-test-td"). */
  readonly mrtd?: string;
  /** Sets TDATTRIBUTES bit 0. */
  readonly debug?: boolean;
  /** Up to 64 bytes, zero-padded. */
  readonly reportData?: Uint8Array;
  /** 8 bytes, hex; default SEPT_VE_DISABLE only (bit 0 added when `debug`). */
  readonly tdAttributes?: string;
  /** 16 bytes, hex; default module SVN 3, version 1, late microcode 3. */
  readonly teeTcbSvn?: string;
  /** TDX 1.5: 16 bytes, hex; default `teeTcbSvn`. */
  readonly teeTcbSvn2?: string;
  /** 48 bytes each, hex; default zero. */
  readonly rtmrs?: readonly [string, string, string, string];
  readonly mrConfigId?: string;
  readonly mrOwner?: string;
  readonly mrOwnerConfig?: string;
  readonly mrSeam?: string;
  readonly mrSignerSeam?: string;
  readonly mrServiceTd?: string;
  /** 8 bytes, hex. */
  readonly xfam?: string;
  /** The QE report; defaults describe Intel's TD QE at ISVSVN 4. */
  readonly qe?: {
    readonly isvSvn?: number;
    readonly isvProdId?: number;
    readonly mrSigner?: string;
    readonly attributes?: string;
    readonly miscSelect?: number;
  };
  /** Default 32 bytes of 0x5a. */
  readonly qeAuthData?: Uint8Array;
}

/** The MRTD of a test quote unless asked otherwise. */
export const DEFAULT_MRTD = createHash("sha384").update("verigate-test-td").digest("hex");
const SEPT_VE_DISABLE = "0000001000000000";

/** A correctly signed TDX quote (v4 unless asked otherwise) from the test PKI. */
export async function makeTdxQuote(spec: TdxQuoteSpec = {}): Promise<Buffer> {
  const pki = spec.pki ?? (await tdxTestPki());
  const version = spec.version ?? 4;
  const bodyType = version === 5 ? (spec.bodyType ?? 2) : 2;
  const attestation = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = attestation.publicKey.export({ format: "jwk" });
  const attestationKey = Buffer.concat([
    Buffer.from(jwk.x ?? "", "base64url"),
    Buffer.from(jwk.y ?? "", "base64url"),
  ]);

  const header = Buffer.alloc(48);
  header.writeUInt16LE(version, 0);
  header.writeUInt16LE(2, 2);
  header.writeUInt32LE(0x81, 4);
  Buffer.from(INTEL_QE_VENDOR_ID, "hex").copy(header, 12);
  randomBytes(16).copy(header, 28);

  const tdAttributes = Buffer.from(spec.tdAttributes ?? SEPT_VE_DISABLE, "hex");
  if (spec.debug === true) tdAttributes[0] = (tdAttributes[0] ?? 0) | 0x01;
  const teeTcbSvn = spec.teeTcbSvn ?? "03010300000000000000000000000000";
  const parts = [
    fixed(teeTcbSvn, 16),
    fixed(spec.mrSeam, 48, 0x11),
    fixed(spec.mrSignerSeam, 48),
    fixed(undefined, 8),
    tdAttributes,
    fixed(spec.xfam ?? "e702060000000000", 8),
    fixed(spec.mrtd ?? DEFAULT_MRTD, 48),
    fixed(spec.mrConfigId, 48),
    fixed(spec.mrOwner, 48),
    fixed(spec.mrOwnerConfig, 48),
    ...(spec.rtmrs ?? [undefined, undefined, undefined, undefined]).map((rtmr) => fixed(rtmr, 48)),
    padded(spec.reportData ?? new Uint8Array(0), 64),
  ];
  if (bodyType === 3) {
    parts.push(fixed(spec.teeTcbSvn2 ?? teeTcbSvn, 16), fixed(spec.mrServiceTd, 48));
  }
  const body = Buffer.concat(parts);
  const descriptor = Buffer.alloc(version === 5 ? 6 : 0);
  if (version === 5) {
    descriptor.writeUInt16LE(bodyType, 0);
    descriptor.writeUInt32LE(body.length, 2);
  }
  const signed = Buffer.concat([header, descriptor, body]);
  const signature = sign("sha256", signed, {
    key: attestation.privateKey,
    dsaEncoding: "ieee-p1363",
  });

  const qeAuthData = Buffer.from(spec.qeAuthData ?? Buffer.alloc(32, 0x5a));
  const qeReport = makeQeReport(spec.qe ?? {}, attestationKey, qeAuthData);
  const qeReportSignature = sign("sha256", qeReport, {
    key: pki.pck.privateKey,
    dsaEncoding: "ieee-p1363",
  });
  const chain = Buffer.concat([Buffer.from(pki.pckChainPem, "latin1"), Buffer.from([0])]);
  const qeCertification = Buffer.concat([
    qeReport,
    qeReportSignature,
    u16(qeAuthData.length),
    qeAuthData,
    u16(5),
    u32(chain.length),
    chain,
  ]);
  const signatureData = Buffer.concat([
    signature,
    attestationKey,
    u16(6),
    u32(qeCertification.length),
    qeCertification,
  ]);
  return Buffer.concat([signed, u32(signatureData.length), signatureData]);
}

/** A TCB level of a test TCB info. */
export interface TcbLevelSpec {
  readonly sgxTcbComponents?: readonly number[];
  readonly pceSvn?: number;
  readonly tdxTcbComponents: readonly number[];
  readonly status: string;
  readonly advisoryIds?: readonly string[];
}

/** An identity level (QE or TDX module). */
export interface IdentityLevelSpec {
  readonly isvSvn: number;
  readonly status: string;
  readonly advisoryIds?: readonly string[];
}

/** What goes into test collateral; defaults match `makeTdxQuote`'s defaults as UpToDate. */
export interface TdxCollateralSpec {
  readonly pki?: TdxTestPki;
  readonly issueDate?: Date;
  readonly nextUpdate?: Date;
  /** Default: the PKI's FMSPC. */
  readonly fmspc?: string;
  readonly tcbLevels?: readonly TcbLevelSpec[];
  /** Default: TDX_01 with ISVSVN 3 UpToDate. */
  readonly moduleIdentities?: readonly {
    readonly id: string;
    readonly levels: readonly IdentityLevelSpec[];
  }[];
  /** Default: ISVSVN 4 UpToDate. */
  readonly qeLevels?: readonly IdentityLevelSpec[];
  /** PCK CRL entries (hex serials). */
  readonly revokedSerials?: readonly string[];
  /** Root CA CRL entries (hex serials). */
  readonly revokedCaSerials?: readonly string[];
}

/** TCB info, QE identity and CRLs signed by the test PKI, as files would hold them. */
export async function makeTdxCollateralSources(
  spec: TdxCollateralSpec = {},
): Promise<TdxCollateralSources> {
  const pki = spec.pki ?? (await tdxTestPki());
  const issueDate = spec.issueDate ?? new Date(Date.now() - DAY_MS);
  const nextUpdate = spec.nextUpdate ?? new Date(Date.now() + 30 * DAY_MS);
  const dates = { issueDate: isoSeconds(issueDate), nextUpdate: isoSeconds(nextUpdate) };
  const zeroSigner = "00".repeat(48);
  const moduleExpectation = {
    mrsigner: zeroSigner,
    attributes: "0000000000000000",
    attributesMask: "FFFFFFFFFFFFFFFF",
  };
  const tcbInfo = {
    id: "TDX",
    version: 3,
    ...dates,
    fmspc: (spec.fmspc ?? pki.pckTcb.fmspc).toUpperCase(),
    pceId: pki.pckTcb.pceId,
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: moduleExpectation,
    tdxModuleIdentities: (
      spec.moduleIdentities ?? [{ id: "TDX_01", levels: [{ isvSvn: 3, status: "UpToDate" }] }]
    ).map((identity) => ({
      id: identity.id,
      ...moduleExpectation,
      tcbLevels: identity.levels.map(identityLevel),
    })),
    tcbLevels: (spec.tcbLevels ?? [{ tdxTcbComponents: [3, 1, 3], status: "UpToDate" }]).map(
      (level) => ({
        tcb: {
          sgxtcbcomponents: sixteen(level.sgxTcbComponents ?? pki.pckTcb.sgxTcbComponents),
          pcesvn: level.pceSvn ?? pki.pckTcb.pceSvn,
          tdxtcbcomponents: sixteen(level.tdxTcbComponents),
        },
        tcbDate: "2024-03-13T00:00:00Z",
        tcbStatus: level.status,
        ...(level.advisoryIds === undefined ? {} : { advisoryIDs: level.advisoryIds }),
      }),
    ),
  };
  const qeIdentity = {
    id: "TD_QE",
    version: 2,
    ...dates,
    tcbEvaluationDataNumber: 17,
    miscselect: "00000000",
    miscselectMask: "FFFFFFFF",
    attributes: INTEL_TD_QE_ATTRIBUTES,
    attributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
    mrsigner: INTEL_TD_QE_MRSIGNER.toUpperCase(),
    isvprodid: 2,
    tcbLevels: (spec.qeLevels ?? [{ isvSvn: 4, status: "UpToDate" }]).map(identityLevel),
  };
  return {
    tcbInfo: signedBody("tcbInfo", tcbInfo, pki.tcbSigning.privateKey),
    tcbInfoIssuerChain: pki.tcbSigningChainPem,
    qeIdentity: signedBody("enclaveIdentity", qeIdentity, pki.tcbSigning.privateKey),
    qeIdentityIssuerChain: pki.tcbSigningChainPem,
    pckCrl: await makeCrl(pki.platformCa, spec.revokedSerials ?? [], issueDate, nextUpdate),
    pckCrlIssuerChain: pki.pckCrlIssuerChainPem,
    rootCaCrl: await makeCrl(pki.root, spec.revokedCaSerials ?? [], issueDate, nextUpdate),
  };
}

/** A PCS-style response body: the member's JSON text and an r||s hex signature over exactly it. */
export function signedBody(member: string, document: unknown, key: KeyObject): string {
  const text = JSON.stringify(document);
  const signature = sign("sha256", Buffer.from(text, "utf8"), { key, dsaEncoding: "ieee-p1363" });
  return `{"${member}":${text},"signature":"${signature.toString("hex")}"}`;
}

function identityLevel(level: IdentityLevelSpec): Record<string, unknown> {
  return {
    tcb: { isvsvn: level.isvSvn },
    tcbDate: "2024-03-13T00:00:00Z",
    tcbStatus: level.status,
    ...(level.advisoryIds === undefined ? {} : { advisoryIDs: level.advisoryIds }),
  };
}

function sixteen(svns: readonly number[]): { svn: number }[] {
  return Array.from({ length: 16 }, (_, index) => ({ svn: svns[index] ?? 0 }));
}

function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function makeQeReport(
  qe: NonNullable<TdxQuoteSpec["qe"]>,
  attestationKey: Buffer,
  qeAuthData: Buffer,
): Buffer {
  const report = Buffer.alloc(384);
  Buffer.from(DEFAULT_PCK_TCB.sgxTcbComponents).copy(report, 0);
  report.writeUInt32LE(qe.miscSelect ?? 0, 16);
  Buffer.from(qe.attributes ?? INTEL_TD_QE_ATTRIBUTES, "hex").copy(report, 48);
  createHash("sha256").update("verigate-test-qe").digest().copy(report, 64);
  Buffer.from(qe.mrSigner ?? INTEL_TD_QE_MRSIGNER, "hex").copy(report, 128);
  report.writeUInt16LE(qe.isvProdId ?? 2, 256);
  report.writeUInt16LE(qe.isvSvn ?? 4, 258);
  createHash("sha256").update(attestationKey).update(qeAuthData).digest().copy(report, 320);
  return report;
}

interface IssueSpec {
  readonly name: string;
  readonly ca: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuer?: TestCertificate;
  readonly extensions?: readonly x509.Extension[];
}

async function issue(spec: IssueSpec): Promise<TestCertificate> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const subject = `CN=${spec.name}, O=${ORGANIZATION}`;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(spec.ca, spec.ca ? 1 : undefined, true),
    new x509.KeyUsagesExtension(
      spec.ca
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ...(spec.extensions ?? []),
  ];
  const serialNumber = `01${randomBytes(15).toString("hex")}`;
  const certificate =
    spec.issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({
          serialNumber,
          name: subject,
          notBefore: spec.notBefore,
          notAfter: spec.notAfter,
          keys,
          signingAlgorithm: SIGNING_ALGORITHM,
          extensions,
        })
      : await x509.X509CertificateGenerator.create({
          serialNumber,
          subject,
          issuer: spec.issuer.certificate.subject,
          notBefore: spec.notBefore,
          notAfter: spec.notAfter,
          publicKey: keys.publicKey,
          signingKey: spec.issuer.cryptoKey,
          signingAlgorithm: SIGNING_ALGORITHM,
          extensions: [
            ...extensions,
            await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.certificate),
          ],
        });
  return {
    certificate,
    pem: `${certificate.toString("pem")}\n`,
    privateKey: NodeKeyObject.from(keys.privateKey),
    cryptoKey: keys.privateKey,
  };
}

async function makeCrl(
  issuer: TestCertificate,
  revokedSerials: readonly string[],
  thisUpdate: Date,
  nextUpdate: Date,
): Promise<Buffer> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subject,
    thisUpdate,
    nextUpdate,
    entries: revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate })),
    signingKey: issuer.cryptoKey,
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return Buffer.from(crl.rawData);
}

/** The SGX extension value (a DER SEQUENCE), as Intel's PCK certificates carry it. */
function sgxExtension(tcb: PckTcbSpec): Buffer {
  const member = (arc: string, value: Buffer): Buffer =>
    der(0x30, oid(`${SGX_EXTENSION_OID}.${arc}`), value);
  const components = tcb.sgxTcbComponents.map((svn, index) =>
    member(`2.${index + 1}`, integer(svn)),
  );
  return der(
    0x30,
    member(
      "1",
      der(0x04, createHash("sha256").update("verigate-test-ppid").digest().subarray(0, 16)),
    ),
    member(
      "2",
      der(
        0x30,
        ...components,
        member("2.17", integer(tcb.pceSvn)),
        member("2.18", der(0x04, Buffer.from(tcb.sgxTcbComponents))),
      ),
    ),
    member("3", der(0x04, Buffer.from(tcb.pceId, "hex"))),
    member("4", der(0x04, Buffer.from(tcb.fmspc, "hex"))),
    member("5", der(0x0a, Buffer.from([0]))),
  );
}

function der(tag: number, ...contents: Buffer[]): Buffer {
  const content = Buffer.concat(contents);
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

function integer(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return der(0x02, Buffer.from(bytes));
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const encoded = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      encoded.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...encoded);
  }
  return der(0x06, Buffer.from(bytes));
}

function fixed(hex: string | undefined, length: number, fill = 0): Buffer {
  if (hex === undefined) return Buffer.alloc(length, fill);
  const bytes = Buffer.from(hex, "hex");
  if (bytes.length !== length) throw new Error(`expected ${length} bytes of hex, got "${hex}"`);
  return bytes;
}

function padded(bytes: Uint8Array, length: number): Buffer {
  if (bytes.length > length) throw new Error(`more than ${length} bytes`);
  return Buffer.concat([Buffer.from(bytes), Buffer.alloc(length - bytes.length)]);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value, 0);
  return buffer;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value, 0);
  return buffer;
}
