/**
 * The Quoting Enclave's report inside a quote: an SGX enclave report body (384 bytes),
 * signed by the platform's PCK key. It says which enclave produced the quote (MRSIGNER,
 * ISVPRODID, ISVSVN, attributes) and, in its report data, binds the attestation key.
 */

/** The fields of an SGX report body that DCAP verification reads. */
export interface QeReport {
  readonly cpuSvn: Buffer;
  readonly miscSelect: number;
  readonly attributes: Buffer;
  readonly mrEnclave: Buffer;
  readonly mrSigner: Buffer;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly reportData: Buffer;
}

/** SGX report body layout: offsets of the fields read. */
const LAYOUT = {
  cpuSvn: [0, 16],
  miscSelect: [16, 4],
  attributes: [48, 16],
  mrEnclave: [64, 32],
  mrSigner: [128, 32],
  isvProdId: [256, 2],
  isvSvn: [258, 2],
  reportData: [320, 64],
} as const;

/** Reads a 384-byte SGX report body (its size was checked by the quote parser). */
export function readQeReport(body: Buffer): QeReport {
  const field = ([offset, length]: readonly [number, number]): Buffer =>
    body.subarray(offset, offset + length);
  return {
    cpuSvn: field(LAYOUT.cpuSvn),
    miscSelect: field(LAYOUT.miscSelect).readUInt32LE(0),
    attributes: field(LAYOUT.attributes),
    mrEnclave: field(LAYOUT.mrEnclave),
    mrSigner: field(LAYOUT.mrSigner),
    isvProdId: field(LAYOUT.isvProdId).readUInt16LE(0),
    isvSvn: field(LAYOUT.isvSvn).readUInt16LE(0),
    reportData: field(LAYOUT.reportData),
  };
}
