/**
 * Genuine-shaped SEV-SNP evidence for tests, made at run time: a TEST AMD-style
 * chain (an "ARK" and "ASK"/"ASVK", RSASSA-PSS SHA-384; a VCEK or VLEK, ECDSA
 * P-384, with AMD's TCB, hwID and product-name extensions) and correctly signed
 * attestation reports. Nothing here is AMD's: the roots are generated per test
 * worker (no key is ever committed), and trusted only by a verifier made with
 * `createSevSnpVerifier({ roots: [chain.arkPem] })`.
 *
 * The report is written from the ABI layout independently of the verifier's
 * parser, so a shared misreading of the layout would show up as a failed test.
 */
import { KeyObject, randomBytes, sign, webcrypto } from "node:crypto";
import type { EvidenceInput } from "../../../src/claims/evidence/evidence.js";
import type { AmdProductLine, VekKind } from "../../../src/claims/evidence/sev-snp/product-line.js";
import {
  encodeTcbVersion,
  type TcbVersion,
} from "../../../src/claims/evidence/sev-snp/tcb-version.js";
import { x509 } from "../../../src/crypto/x509.js";

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const AMD_ARC = "1.3.6.1.4.1.3704.1";

/** RSA-PSS keys of the test CAs: 2048 bits (AMD uses 4096; the verifier does not care, and 2048 is fast). */
const CA_KEY_ALGORITHM = {
  name: "RSA-PSS",
  hash: "SHA-384",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
} as const;
const CA_SIGNING_ALGORITHM = { name: "RSA-PSS", saltLength: 48 } as const;
const VEK_KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-384" } as const;

/** A test CA: its certificate and private key. */
export interface SnpTestCa {
  readonly pem: string;
  readonly der: Buffer;
  readonly certificate: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

/** A test VCEK or VLEK and what it was issued for. */
export interface SnpTestVek {
  readonly kind: VekKind;
  readonly der: Buffer;
  /** Signs reports (Node key object, P-384). */
  readonly privateKey: KeyObject;
  readonly tcb: TcbVersion;
  /** 64 bytes; on Turin the first 8 are the ID, the rest zero. */
  readonly chipId: Buffer;
}

/** What a test VCEK/VLEK says; every field has a default. */
export interface SnpTestVekSpec {
  readonly kind?: VekKind;
  readonly tcb?: TcbVersion;
  /** VCEK only. Default: random. */
  readonly chipId?: Buffer;
  /** Default: the line plus `-B1` for a VCEK, the line alone for a VLEK (as AMD does). */
  readonly productName?: string;
  /** AMD's KDS wrote hwID raw, later as an OCTET STRING. Default `raw`. */
  readonly hwIdEncoding?: "raw" | "octet-string";
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** A test chain of one product line. */
export interface SnpTestChain {
  readonly line: AmdProductLine;
  readonly ark: SnpTestCa;
  /** Issues VCEKs. */
  readonly ask: SnpTestCa;
  /** Issues VLEKs. */
  readonly asvk: SnpTestCa;
  /** The root to give `createSevSnpVerifier({ roots: [arkPem] })`. */
  readonly arkPem: string;
  readonly vcek: SnpTestVek;
  readonly vlek: SnpTestVek;
  issueVek(spec?: SnpTestVekSpec): Promise<SnpTestVek>;
}

/** A default TCB of each line (Turin's has an FMC component). */
export function defaultTestTcb(line: AmdProductLine): TcbVersion {
  return line === "Turin"
    ? { bootloader: 1, tee: 0, snp: 3, microcode: 72, fmc: 1 }
    : { bootloader: 4, tee: 0, snp: 24, microcode: 219 };
}

const chains = new Map<AmdProductLine, Promise<SnpTestChain>>();

/** The test chain of `line` (default Milan), made once per test worker. */
export function getSnpTestChain(line: AmdProductLine = "Milan"): Promise<SnpTestChain> {
  let chain = chains.get(line);
  if (chain === undefined) {
    chain = createSnpTestChain(line);
    chains.set(line, chain);
  }
  return chain;
}

/** A fresh test chain (not memoized): for tests that need a second, unrelated root. */
export async function createSnpTestChain(line: AmdProductLine = "Milan"): Promise<SnpTestChain> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 25 * YEAR_MS) };
  const ark = await createCa(`ARK-${line}`, undefined, validity);
  const ask = await createCa(`SEV-${line}`, ark, validity);
  const asvk = await createCa(`SEV-VLEK-${line}`, ark, validity);
  const issueVek = (spec: SnpTestVekSpec = {}): Promise<SnpTestVek> =>
    issueTestVek(line, spec.kind === "vlek" ? asvk : ask, spec);
  return {
    line,
    ark,
    ask,
    asvk,
    arkPem: ark.pem,
    vcek: await issueVek({ kind: "vcek" }),
    vlek: await issueVek({ kind: "vlek" }),
    issueVek,
  };
}

async function createCa(
  commonName: string,
  issuer: SnpTestCa | undefined,
  validity: { readonly notBefore: Date; readonly notAfter: Date },
): Promise<SnpTestCa> {
  const keys = await webcrypto.subtle.generateKey(CA_KEY_ALGORITHM, false, ["sign", "verify"]);
  const extensions = [
    new x509.BasicConstraintsExtension(true, issuer === undefined ? 1 : 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const certificate =
    issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({
          serialNumber: serialNumber(),
          name: testAmdName(commonName),
          ...validity,
          keys,
          signingAlgorithm: CA_SIGNING_ALGORITHM,
          extensions,
        })
      : await x509.X509CertificateGenerator.create({
          serialNumber: serialNumber(),
          subject: testAmdName(commonName),
          issuer: issuer.certificate.subjectName,
          ...validity,
          publicKey: keys.publicKey,
          signingKey: issuer.privateKey,
          signingAlgorithm: CA_SIGNING_ALGORITHM,
          extensions,
        });
  const der = Buffer.from(certificate.rawData);
  return { pem: toPem(der), der, certificate, privateKey: keys.privateKey };
}

async function issueTestVek(
  line: AmdProductLine,
  issuer: SnpTestCa,
  spec: SnpTestVekSpec,
): Promise<SnpTestVek> {
  const kind = spec.kind ?? "vcek";
  const tcb = spec.tcb ?? defaultTestTcb(line);
  const chipId = spec.chipId ?? randomChipId(line);
  const keys = await webcrypto.subtle.generateKey(VEK_KEY_ALGORITHM, true, ["sign", "verify"]);
  const spl = (n: number, value: number): x509.Extension =>
    new x509.Extension(`${AMD_ARC}.3.${n}`, false, derInteger(value));
  const extensions = [
    new x509.Extension(`${AMD_ARC}.1`, false, derInteger(line === "Turin" ? 1 : 0)),
    new x509.Extension(
      `${AMD_ARC}.2`,
      false,
      derIa5(spec.productName ?? (kind === "vcek" ? `${line}-B1` : line)),
    ),
    spl(1, tcb.bootloader),
    spl(2, tcb.tee),
    spl(3, tcb.snp),
    // AMD's Milan/Genoa certificates carry the reserved spl_4 ... spl_7, all zero.
    ...(line === "Turin" ? [spl(9, tcb.fmc ?? 0)] : [4, 5, 6, 7].map((n) => spl(n, 0))),
    spl(8, tcb.microcode),
  ];
  if (kind === "vcek") {
    const id = chipId.subarray(0, line === "Turin" ? 8 : 64);
    const value = spec.hwIdEncoding === "octet-string" ? der(0x04, id) : id;
    extensions.push(new x509.Extension(`${AMD_ARC}.4`, false, Uint8Array.from(value)));
  } else {
    extensions.push(new x509.Extension(`${AMD_ARC}.5`, false, derIa5("CN=verigate.test")));
  }
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: "00",
    subject: testAmdName(kind === "vcek" ? "SEV-VCEK" : "SEV-VLEK"),
    issuer: issuer.certificate.subjectName,
    notBefore: spec.notBefore ?? new Date(now - DAY_MS),
    notAfter: spec.notAfter ?? new Date(now + 7 * YEAR_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    extensions,
  });
  return {
    kind,
    der: Buffer.from(certificate.rawData),
    privateKey: KeyObject.from(keys.privateKey),
    tcb,
    chipId: kind === "vcek" ? chipId : Buffer.alloc(64),
  };
}

/** What a test report says; every field has a default. */
export interface SnpReportSpec {
  readonly line?: AmdProductLine;
  /** Default 3. Version 2 has no CPUID fields, version 5 adds mitigation vectors. */
  readonly version?: 2 | 3 | 5;
  /** 48 bytes, or 96 hex digits. Default: random. */
  readonly measurement?: Buffer | string;
  /** Sets policy bit 19. Ignored when `policy` is given. */
  readonly debug?: boolean;
  /** The whole POLICY. Default: SMT allowed, bit 17 (must be one), debug as asked. */
  readonly policy?: bigint;
  readonly vmpl?: number;
  /** 64 bytes. Default: zero. */
  readonly reportData?: Buffer;
  readonly hostData?: Buffer;
  readonly familyId?: Buffer;
  readonly imageId?: Buffer;
  readonly guestSvn?: number;
  /** Which key signs: the chain's default VCEK or VLEK, or one from `issueVek`. Default: the chain's VCEK. */
  readonly vek?: SnpTestVek;
  readonly signingKey?: VekKind;
  readonly maskChipKey?: boolean;
  /** Default: the VEK's TCB (anything else makes a genuinely signed report its VEK does not match). */
  readonly reportedTcb?: TcbVersion;
  /** Default: the VEK's chip ID. */
  readonly chipId?: Buffer;
  readonly cpuid?: { readonly family: number; readonly model: number; readonly stepping: number };
  readonly platformInfo?: bigint;
  /** Present the ASK/ASVK after the VEK. Default true. */
  readonly includeIssuer?: boolean;
}

const TEST_CPUID: Readonly<
  Record<AmdProductLine, { family: number; model: number; stepping: number }>
> = {
  Milan: { family: 0x19, model: 0x01, stepping: 0x01 },
  Genoa: { family: 0x19, model: 0x11, stepping: 0x01 },
  Turin: { family: 0x1a, model: 0x02, stepping: 0x01 },
};

/** A correctly signed report and its certificates, as `EvidenceVerifier.verify` takes them. */
export async function makeSnpReport(spec: SnpReportSpec = {}): Promise<EvidenceInput> {
  const line = spec.line ?? "Milan";
  const chain = await getSnpTestChain(line);
  const signingKey = spec.signingKey ?? spec.vek?.kind ?? "vcek";
  const vek = spec.vek ?? (signingKey === "vlek" ? chain.vlek : chain.vcek);
  const version = spec.version ?? 3;
  const layout = line === "Turin" ? "turin" : "milan-genoa";
  const tcb = encodeTcbVersion(spec.reportedTcb ?? vek.tcb, layout);
  const maskChipKey = spec.maskChipKey ?? false;
  const report = Buffer.alloc(0x4a0);

  report.writeUInt32LE(version, 0x000);
  report.writeUInt32LE(spec.guestSvn ?? 1, 0x004);
  const policy = spec.policy ?? (1n << 16n) | (1n << 17n) | (spec.debug === true ? 1n << 19n : 0n);
  report.writeBigUInt64LE(policy, 0x008);
  fill(report, 0x010, spec.familyId ?? Buffer.alloc(16), 16);
  fill(report, 0x020, spec.imageId ?? Buffer.alloc(16), 16);
  report.writeUInt32LE(spec.vmpl ?? 0, 0x030);
  report.writeUInt32LE(1, 0x034); // ECDSA P-384 with SHA-384
  tcb.copy(report, 0x038); // CURRENT_TCB
  report.writeBigUInt64LE(spec.platformInfo ?? 0x25n, 0x040);
  report.writeUInt32LE(((signingKey === "vlek" ? 1 : 0) << 2) | (maskChipKey ? 2 : 0), 0x048);
  fill(report, 0x050, spec.reportData ?? Buffer.alloc(64), 64);
  const measurement =
    typeof spec.measurement === "string"
      ? Buffer.from(spec.measurement, "hex")
      : (spec.measurement ?? randomBytes(48));
  fill(report, 0x090, measurement, 48);
  fill(report, 0x0c0, spec.hostData ?? Buffer.alloc(32), 32);
  randomBytes(32).copy(report, 0x140); // REPORT_ID
  report.fill(0xff, 0x160, 0x180); // REPORT_ID_MA: no migration agent
  tcb.copy(report, 0x180); // REPORTED_TCB
  if (version >= 3) {
    const cpuid = spec.cpuid ?? TEST_CPUID[line];
    report[0x188] = cpuid.family;
    report[0x189] = cpuid.model;
    report[0x18a] = cpuid.stepping;
  }
  if (!maskChipKey) fill(report, 0x1a0, spec.chipId ?? vek.chipId, 64);
  tcb.copy(report, 0x1e0); // COMMITTED_TCB
  report.set([7, 55, 1], 0x1e8); // CURRENT_BUILD, _MINOR, _MAJOR
  report.set([7, 55, 1], 0x1ec); // COMMITTED_*
  tcb.copy(report, 0x1f0); // LAUNCH_TCB
  if (version >= 5) {
    report.writeBigUInt64LE(0xbn, 0x1f8);
    report.writeBigUInt64LE(0xbn, 0x200);
  }
  const certs = [vek.der];
  if (spec.includeIssuer ?? true) certs.push(vek.kind === "vlek" ? chain.asvk.der : chain.ask.der);
  return { evidence: signSnpReport(report, vek.privateKey), certs };
}

/** A copy of `report` with a fresh signature over [0, 0x2A0) by `privateKey` (for tests that edit a report). */
export function signSnpReport(report: Buffer, privateKey: KeyObject): Buffer {
  const signed = Buffer.from(report);
  const p1363 = sign("sha384", signed.subarray(0, 0x2a0), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  });
  signed.fill(0, 0x2a0);
  // AMD stores R and S little endian, zero-extended to 72 bytes each.
  Buffer.from(p1363.subarray(0, 48)).reverse().copy(signed, 0x2a0);
  Buffer.from(p1363.subarray(48, 96)).reverse().copy(signed, 0x2e8);
  return signed;
}

function fill(report: Buffer, offset: number, value: Buffer, length: number): void {
  if (value.length !== length)
    throw new RangeError(`expected ${length} bytes at 0x${offset.toString(16)}`);
  value.copy(report, offset);
}

function randomChipId(line: AmdProductLine): Buffer {
  const id = Buffer.alloc(64);
  randomBytes(line === "Turin" ? 8 : 64).copy(id);
  return id;
}

/** AMD's name layout, with an organization that says these are not AMD's. */
function testAmdName(commonName: string): x509.JsonName {
  return [
    { OU: ["Engineering"] },
    { C: ["US"] },
    { O: ["verigate test stand-in, not AMD"] },
    { CN: [commonName] },
  ];
}

function serialNumber(): string {
  return randomBytes(8).toString("hex").replace(/^./, "1");
}

function der(tag: number, content: Uint8Array): Buffer {
  if (content.length > 0xff) throw new RangeError("short test values only");
  const header = content.length < 0x80 ? [tag, content.length] : [tag, 0x81, content.length];
  return Buffer.concat([Buffer.from(header), content]);
}

function derInteger(value: number): Uint8Array<ArrayBuffer> {
  const hex = value.toString(16).padStart(2, "0");
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
  // A set top bit would read as negative: prefix a zero byte, as DER does.
  return Uint8Array.from(
    der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes),
  );
}

function derIa5(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(der(0x16, Buffer.from(text, "latin1")));
}

function toPem(derBytes: Buffer): string {
  const lines = derBytes.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
