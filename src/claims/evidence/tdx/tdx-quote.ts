/**
 * Intel TDX DCAP quotes, versions 4 and 5 (the quote format appendix of Intel's "TDX
 * DCAP Quoting Library API"), parsed strictly: every length is checked against what holds it,
 * every nested length must account for its container exactly, and anything that is not
 * a TD quote signed by an ECDSA P-256 attestation key with a QE report and a PEM PCK
 * certificate chain is refused with the field that did not fit.
 *
 * Layout (little-endian):
 * ```
 * header            48  version u16, att. key type u16, TEE type u32, reserved 4,
 *                       QE vendor id 16, user data 20
 * v5 only            6  body type u16 (2 = TDX 1.0, 3 = TDX 1.5), body size u32
 * TD report    584|648  (v4: always the 584-byte TDX 1.0 report)
 * sig. data len      4
 * signature data        quote signature 64 (r||s), attestation key 64 (x||y),
 *                       certification data: type u16 = 6, size u32, then
 *                         QE report 384, QE report signature 64,
 *                         QE auth data size u16, QE auth data,
 *                         certification data: type u16 = 5, size u32, PEM PCK chain
 * ```
 * The quote signature covers everything before the signature data length. Bytes after
 * the signature data are signed by nobody and ignored (quote generators pad their
 * buffers; go-tdx-guest's sample carries a trailing text): they are counted, bounded
 * by `MAX_TDX_QUOTE_BYTES`, and never read.
 */
import { parsePemCertificates } from "./pem-certificates.js";
import { QuoteFormatError, QuoteReader } from "./quote-reader.js";

/** Larger inputs are refused before parsing: real quotes are about 5 KB. */
export const MAX_TDX_QUOTE_BYTES = 16 * 1024;

const ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
const TEE_TYPE_TDX = 0x81;
const TEE_TYPE_SGX = 0x00;
const TD_REPORT_10_BYTES = 584;
const TD_REPORT_15_BYTES = 648;
const BODY_TYPE_SGX = 1;
const CERTIFICATION_DATA_QE_REPORT = 6;
const CERTIFICATION_DATA_PCK_CHAIN_PEM = 5;
const QE_REPORT_BYTES = 384;
/** Intel's PCK chain is the PCK certificate, its CA and the root. */
const MAX_PCK_CHAIN_CERTIFICATES = 3;

/** Which TD report a quote carries: 2 = TDX 1.0 (every v4 quote), 3 = TDX 1.5. */
export type TdReportType = 2 | 3;

/** The TD report (quote body). Every field is a copy of the quote's bytes. */
export interface TdReport {
  readonly bodyType: TdReportType;
  readonly teeTcbSvn: Buffer;
  readonly mrSeam: Buffer;
  readonly mrSignerSeam: Buffer;
  readonly seamAttributes: Buffer;
  readonly tdAttributes: Buffer;
  readonly xfam: Buffer;
  readonly mrTd: Buffer;
  readonly mrConfigId: Buffer;
  readonly mrOwner: Buffer;
  readonly mrOwnerConfig: Buffer;
  readonly rtmrs: readonly [Buffer, Buffer, Buffer, Buffer];
  readonly reportData: Buffer;
  /** TDX 1.5 only: the TCB SVN of the TDX module currently loaded (after a TD-preserving update). */
  readonly teeTcbSvn2: Buffer | undefined;
  /** TDX 1.5 only: the measurement of the service TD bound to this TD. */
  readonly mrServiceTd: Buffer | undefined;
}

/** A structurally valid TDX quote; nothing in it is verified yet. */
export interface TdxQuote {
  readonly version: 4 | 5;
  readonly qeVendorId: Buffer;
  readonly userData: Buffer;
  readonly report: TdReport;
  /** Header, (v5) body descriptor and body: what the attestation key signed. */
  readonly signedBytes: Buffer;
  /** ECDSA P-256 signature r||s over `signedBytes`. */
  readonly signature: Buffer;
  /** The attestation public key, x||y (64 bytes). */
  readonly attestationKey: Buffer;
  /** The Quoting Enclave's SGX report (384 bytes), signed by the PCK key. */
  readonly qeReport: Buffer;
  readonly qeReportSignature: Buffer;
  readonly qeAuthData: Buffer;
  /** DER certificates of the PEM PCK chain, leaf first. */
  readonly pckChain: readonly Buffer[];
  /** Unsigned bytes after the signature data (ignored). */
  readonly trailingBytes: number;
}

/** The outcome of parsing: a quote, or the one thing wrong with the input. */
export type TdxQuoteParse =
  | { readonly ok: true; readonly quote: TdxQuote }
  | { readonly ok: false; readonly problem: string };

/** Parses a TDX quote (v4 or v5). Never throws. */
export function parseTdxQuote(input: Uint8Array): TdxQuoteParse {
  if (input.length > MAX_TDX_QUOTE_BYTES) {
    return {
      ok: false,
      problem: `quote is ${input.length} bytes, more than the ${MAX_TDX_QUOTE_BYTES} allowed`,
    };
  }
  try {
    // One private copy: nothing returned aliases the caller's buffer.
    return { ok: true, quote: readQuote(Buffer.from(input)) };
  } catch (e: unknown) {
    if (e instanceof QuoteFormatError) return { ok: false, problem: `quote: ${e.message}` };
    throw e;
  }
}

function readQuote(bytes: Buffer): TdxQuote {
  const reader = new QuoteReader(bytes);
  const version = reader.u16("header.version");
  if (version !== 4 && version !== 5) {
    throw new QuoteFormatError(
      version === 3
        ? "version 3 is an SGX quote format, not TDX"
        : `version ${version} is not supported (4 and 5 are)`,
    );
  }
  const keyType = reader.u16("header.attestationKeyType");
  if (keyType !== ATTESTATION_KEY_TYPE_ECDSA_P256) {
    throw new QuoteFormatError(
      `attestation key type ${keyType} is not supported (2 = ECDSA-256 with P-256 is)`,
    );
  }
  const teeType = reader.u32("header.teeType");
  if (teeType !== TEE_TYPE_TDX) {
    throw new QuoteFormatError(
      teeType === TEE_TYPE_SGX
        ? "TEE type 0x00 is SGX, not TDX"
        : `TEE type 0x${teeType.toString(16)} is not TDX (0x81)`,
    );
  }
  reader.bytes(4, "header.reserved");
  const qeVendorId = reader.bytes(16, "header.qeVendorId");
  const userData = reader.bytes(20, "header.userData");

  let bodyType: TdReportType = 2;
  let bodySize = TD_REPORT_10_BYTES;
  if (version === 5) {
    const type = reader.u16("body.type");
    const size = reader.u32("body.size");
    if (type === BODY_TYPE_SGX) {
      throw new QuoteFormatError("body type 1 is an SGX enclave report, not a TD report");
    }
    if (type !== 2 && type !== 3) {
      throw new QuoteFormatError(`body type ${type} is not a TD report (2 or 3)`);
    }
    bodyType = type;
    bodySize = type === 2 ? TD_REPORT_10_BYTES : TD_REPORT_15_BYTES;
    if (size !== bodySize) {
      throw new QuoteFormatError(
        `body size ${size} does not match body type ${type} (${bodySize} bytes)`,
      );
    }
  }
  const report = readTdReport(new QuoteReader(reader.bytes(bodySize, "body")), bodyType);
  const signedBytes = bytes.subarray(0, reader.offset);

  const signatureDataLength = reader.u32("signatureData.length");
  const signatureData = new QuoteReader(reader.bytes(signatureDataLength, "signatureData"));
  const signature = signatureData.bytes(64, "signatureData.quoteSignature");
  const attestationKey = signatureData.bytes(64, "signatureData.attestationKey");
  const certificationType = signatureData.u16("signatureData.certificationData.type");
  if (certificationType !== CERTIFICATION_DATA_QE_REPORT) {
    throw new QuoteFormatError(
      `certification data type ${certificationType} is not supported (6 = QE report certification data is)`,
    );
  }
  const qeCertificationSize = signatureData.u32("signatureData.certificationData.size");
  const qeCertification = new QuoteReader(
    signatureData.bytes(qeCertificationSize, "signatureData.certificationData"),
  );
  expectEnd(signatureData, "signatureData");

  const qeReport = qeCertification.bytes(QE_REPORT_BYTES, "qeReport");
  const qeReportSignature = qeCertification.bytes(64, "qeReportSignature");
  const qeAuthDataSize = qeCertification.u16("qeAuthData.size");
  const qeAuthData = qeCertification.bytes(qeAuthDataSize, "qeAuthData");
  const pckType = qeCertification.u16("pckCertificationData.type");
  if (pckType !== CERTIFICATION_DATA_PCK_CHAIN_PEM) {
    throw new QuoteFormatError(
      `PCK certification data type ${pckType} is not supported (5 = PEM PCK certificate chain is)`,
    );
  }
  const pckSize = qeCertification.u32("pckCertificationData.size");
  const pckData = qeCertification.bytes(pckSize, "pckCertificationData");
  expectEnd(qeCertification, "QE report certification data");

  const chain = parsePemCertificates(pckData, "PCK certificate chain", MAX_PCK_CHAIN_CERTIFICATES);
  if (!chain.ok) throw new QuoteFormatError(chain.problem);

  return {
    version,
    qeVendorId,
    userData,
    report,
    signedBytes,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChain: chain.certificates,
    trailingBytes: reader.remaining,
  };
}

function readTdReport(reader: QuoteReader, bodyType: TdReportType): TdReport {
  const teeTcbSvn = reader.bytes(16, "body.teeTcbSvn");
  const mrSeam = reader.bytes(48, "body.mrSeam");
  const mrSignerSeam = reader.bytes(48, "body.mrSignerSeam");
  const seamAttributes = reader.bytes(8, "body.seamAttributes");
  const tdAttributes = reader.bytes(8, "body.tdAttributes");
  const xfam = reader.bytes(8, "body.xfam");
  const mrTd = reader.bytes(48, "body.mrTd");
  const mrConfigId = reader.bytes(48, "body.mrConfigId");
  const mrOwner = reader.bytes(48, "body.mrOwner");
  const mrOwnerConfig = reader.bytes(48, "body.mrOwnerConfig");
  const rtmrs = [
    reader.bytes(48, "body.rtmr0"),
    reader.bytes(48, "body.rtmr1"),
    reader.bytes(48, "body.rtmr2"),
    reader.bytes(48, "body.rtmr3"),
  ] as const;
  const reportData = reader.bytes(64, "body.reportData");
  const isTdx15 = bodyType === 3;
  const teeTcbSvn2 = isTdx15 ? reader.bytes(16, "body.teeTcbSvn2") : undefined;
  const mrServiceTd = isTdx15 ? reader.bytes(48, "body.mrServiceTd") : undefined;
  expectEnd(reader, "body");
  return {
    bodyType,
    teeTcbSvn,
    mrSeam,
    mrSignerSeam,
    seamAttributes,
    tdAttributes,
    xfam,
    mrTd,
    mrConfigId,
    mrOwner,
    mrOwnerConfig,
    rtmrs,
    reportData,
    teeTcbSvn2,
    mrServiceTd,
  };
}

function expectEnd(reader: QuoteReader, what: string): void {
  if (reader.remaining !== 0) {
    throw new QuoteFormatError(`${what}: ${reader.remaining} bytes left over after its last field`);
  }
}
