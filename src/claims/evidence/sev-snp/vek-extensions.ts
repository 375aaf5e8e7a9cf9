/**
 * The AMD extensions of a VCEK or VLEK certificate (AMD "Versioned Chip Endorsement
 * Key (VCEK) Certificate and KDS Interface Specification", and the VLEK certificate
 * definition): the product name, the TCB security patch levels the key was derived
 * for, the chip's hardware ID (VCEK only) and the cloud provider's ID (VLEK only).
 * They are what ties a certificate to one report: the key signed the report, and
 * these say for which chip and which firmware.
 */
import { DER_TAG, DerError, decodeSafeUnsignedInteger, readSingle } from "../../der-reader.js";
import type { AmdCertificate } from "./amd-certificate.js";
import { productLineOfName, type AmdProductLine } from "./product-line.js";

/** AMD's arc for SEV certificate extensions. */
const AMD_SEV = "1.3.6.1.4.1.3704.1";

/** OIDs of the VCEK/VLEK extensions verigate reads. */
export const VEK_EXTENSION_OIDS = {
  productName: `${AMD_SEV}.2`,
  bootloader: `${AMD_SEV}.3.1`,
  tee: `${AMD_SEV}.3.2`,
  snp: `${AMD_SEV}.3.3`,
  microcode: `${AMD_SEV}.3.8`,
  fmc: `${AMD_SEV}.3.9`,
  hwId: `${AMD_SEV}.4`,
  cspId: `${AMD_SEV}.5`,
} as const;

/** The reserved SPL extensions (spl_4 ... spl_7): present and zero in AMD's certificates. */
export const RESERVED_SPL_OIDS: readonly string[] = [4, 5, 6, 7].map((n) => `${AMD_SEV}.3.${n}`);

/** The TCB components a VCEK/VLEK was issued for. `fmc` exists on Turin only. */
export interface VekTcb {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc: number | undefined;
  /** Values of spl_4 ... spl_7 that are present, by OID. */
  readonly reservedSpls: ReadonlyMap<string, number>;
}

/** What a VCEK/VLEK's AMD extensions say. */
export interface VekExtensions {
  /** As the certificate says it: `Milan-B0`, `Genoa`, `Turin` ... */
  readonly productName: string;
  readonly productLine: AmdProductLine;
  readonly tcb: VekTcb;
  /** VCEK: the chip ID (64 bytes; Turin: 8). VLEK: undefined. */
  readonly hwId: Buffer | undefined;
  /** VLEK: the cloud provider's name (`CN=cc-us-east-2.amazonaws.com`). VCEK: undefined. */
  readonly cspId: string | undefined;
}

/** Thrown when the extensions are missing or malformed; `message` is safe to log. */
export class VekExtensionError extends Error {}

const IA5_STRING_TAG = 0x16;
/** Product names and CSP IDs are short printable ASCII; anything else is not AMD's. */
const PRINTABLE_ASCII = /^[\x20-\x7e]{1,128}$/;

/** Reads the AMD extensions of a VCEK/VLEK; throws `VekExtensionError` with what is wrong. */
export function readVekExtensions(cert: AmdCertificate): VekExtensions {
  try {
    const productName = readIa5(cert, VEK_EXTENSION_OIDS.productName, "product name");
    if (productName === undefined) throw new VekExtensionError("has no product name extension");
    const productLine = productLineOfName(productName);
    if (productLine === undefined) {
      throw new VekExtensionError(
        `product name ${JSON.stringify(productName)} is not Milan, Genoa or Turin`,
      );
    }
    return {
      productName,
      productLine,
      tcb: readTcb(cert, productLine),
      hwId: readHwId(cert, productLine),
      cspId: readIa5(cert, VEK_EXTENSION_OIDS.cspId, "CSP ID"),
    };
  } catch (e: unknown) {
    if (e instanceof DerError) throw new VekExtensionError(e.message);
    throw e;
  }
}

function readTcb(cert: AmdCertificate, line: AmdProductLine): VekTcb {
  const required = (oid: string, what: string): number => {
    const value = readSpl(cert, oid, what);
    if (value === undefined) throw new VekExtensionError(`has no ${what} SPL extension (${oid})`);
    return value;
  };
  const reservedSpls = new Map<string, number>();
  for (const oid of RESERVED_SPL_OIDS) {
    const value = readSpl(cert, oid, `reserved SPL ${oid}`);
    if (value !== undefined) reservedSpls.set(oid, value);
  }
  return {
    bootloader: required(VEK_EXTENSION_OIDS.bootloader, "boot loader"),
    tee: required(VEK_EXTENSION_OIDS.tee, "TEE"),
    snp: required(VEK_EXTENSION_OIDS.snp, "SNP"),
    microcode: required(VEK_EXTENSION_OIDS.microcode, "microcode"),
    fmc:
      line === "Turin"
        ? required(VEK_EXTENSION_OIDS.fmc, "FMC")
        : readSpl(cert, VEK_EXTENSION_OIDS.fmc, "FMC"),
    reservedSpls,
  };
}

/** An SPL is a DER INTEGER 0-255 (one TCB byte). */
function readSpl(cert: AmdCertificate, oid: string, what: string): number | undefined {
  const extension = cert.extensions.get(oid);
  if (extension === undefined) return undefined;
  const value = decodeSafeUnsignedInteger(readSingle(extension.value, DER_TAG.integer, what), what);
  if (value > 0xff) throw new VekExtensionError(`${what} SPL ${value} does not fit a TCB byte`);
  return value;
}

/**
 * The hwID extension holds the chip ID: 64 bytes (Milan, Genoa) or 8 (Turin). AMD's
 * KDS first wrote it as the raw bytes, later as a DER OCTET STRING; both are read,
 * and the expected length tells them apart (a wrapped ID is 2 bytes longer).
 */
function readHwId(cert: AmdCertificate, line: AmdProductLine): Buffer | undefined {
  const extension = cert.extensions.get(VEK_EXTENSION_OIDS.hwId);
  if (extension === undefined) return undefined;
  const expected = chipIdLength(line);
  if (extension.value.length === expected) return Buffer.from(extension.value);
  const wrapped = readSingle(extension.value, DER_TAG.octetString, "hwID");
  if (wrapped.length !== expected) {
    throw new VekExtensionError(
      `hwID is ${wrapped.length} bytes; a ${line} chip ID is ${expected}`,
    );
  }
  return Buffer.from(wrapped);
}

/** How many bytes of CHIP_ID a line uses (Turin's ID is 8 bytes, zero-padded to 64 in reports). */
export function chipIdLength(line: AmdProductLine): number {
  return line === "Turin" ? 8 : 64;
}

function readIa5(cert: AmdCertificate, oid: string, what: string): string | undefined {
  const extension = cert.extensions.get(oid);
  if (extension === undefined) return undefined;
  const text = Buffer.from(readSingle(extension.value, IA5_STRING_TAG, what)).toString("latin1");
  if (!PRINTABLE_ASCII.test(text)) throw new VekExtensionError(`${what} is not printable ASCII`);
  return text;
}
