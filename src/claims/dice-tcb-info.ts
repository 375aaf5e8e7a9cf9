/**
 * The TCG DICE TcbInfo extension (`tcg-dice-TcbInfo`, 2.23.133.5.4.1), as the TCG
 * DICE Attestation Architecture defines it (v1.2, Appendix A; every field is tagged
 * IMPLICIT):
 *
 * ```
 * DiceTcbInfo ::= SEQUENCE {
 *   vendor     [0] IMPLICIT UTF8String OPTIONAL,
 *   model      [1] IMPLICIT UTF8String OPTIONAL,
 *   version    [2] IMPLICIT UTF8String OPTIONAL,
 *   svn        [3] IMPLICIT INTEGER OPTIONAL,
 *   layer      [4] IMPLICIT INTEGER OPTIONAL,
 *   index      [5] IMPLICIT INTEGER OPTIONAL,
 *   fwids      [6] IMPLICIT FWIDLIST OPTIONAL,
 *   flags      [7] IMPLICIT OperationalFlags OPTIONAL,
 *   vendorInfo [8] IMPLICIT OCTET STRING OPTIONAL,
 *   type       [9] IMPLICIT OCTET STRING OPTIONAL,
 *   flagsMask  [10] IMPLICIT OperationalFlagsMask OPTIONAL,
 *   integrityRegisters [11] IMPLICIT IrList OPTIONAL }
 * FWIDLIST ::= SEQUENCE SIZE (1..MAX) OF FWID
 * FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING }
 * OperationalFlags ::= BIT STRING { notConfigured (0), notSecure (1), recovery (2),
 *   debug (3), notReplayProtected (4), notIntegrityProtected (5),
 *   notRuntimeMeasured (6), notImmutable (7), notTcb (8), fixedWidth (31) }
 * ```
 *
 * Read defensively: other layouts live under the same OID (NVIDIA's GH100 leaf holds
 * SEQUENCE { INTEGER, SubjectPublicKeyInfo, SEQUENCE { OID, OCTET STRING } }), so
 * anything that is not exactly this structure, in DER, yields nothing. The body text
 * of v1.2 (section 6.1.1) puts integrityRegisters at [10]; a constructed [10] is
 * therefore refused rather than guessed at. integrityRegisters ([11]) are kept raw,
 * not interpreted.
 */
import {
  DER_TAG,
  DerError,
  DerReader,
  decodeBitString,
  decodeObjectIdentifier,
  decodeSafeUnsignedInteger,
  decodeUtf8,
  readSingle,
  type DerBitString,
} from "./der-reader.js";

/** OID of `tcg-dice-TcbInfo`. */
export const DICE_TCB_INFO_OID = "2.23.133.5.4.1";

/** The extension value may be at most this many bytes. */
export const MAX_DICE_TCB_INFO_BYTES = 8192;

/** One firmware measurement. */
export interface DiceFwid {
  /** `sha256`, `sha384`, `sha512`, `sha3-256` ... or the dotted OID of another algorithm. */
  readonly hashAlg: string;
  /** Lowercase hex. */
  readonly digest: string;
}

/** The OperationalFlags bits, by name (bits past `notTcb` are not named). */
export interface DiceOperationalFlags {
  readonly notConfigured: boolean;
  readonly notSecure: boolean;
  readonly recovery: boolean;
  readonly debug: boolean;
  readonly notReplayProtected: boolean;
  readonly notIntegrityProtected: boolean;
  readonly notRuntimeMeasured: boolean;
  readonly notImmutable: boolean;
  readonly notTcb: boolean;
}

/** A decoded DiceTcbInfo: what `tee.claims.dice` holds. Octet strings as lowercase hex. */
export interface DiceTcbInfo {
  readonly vendor?: string;
  readonly model?: string;
  readonly version?: string;
  readonly svn?: number;
  readonly layer?: number;
  readonly index?: number;
  readonly fwids?: readonly DiceFwid[];
  readonly flags?: DiceOperationalFlags;
  readonly vendorInfo?: string;
  readonly type?: string;
  /** Which flags are meaningful; when absent, every flag that is present is. */
  readonly flagsMask?: DiceOperationalFlags;
  /** The IrList's DER, hex: kept for policies on raw claims, not interpreted. */
  readonly integrityRegisters?: string;
}

/** What a DiceTcbInfo says in the Claims document's terms. */
export interface DiceTeeStatement {
  readonly platform: "dice";
  /** The first FWID's digest. */
  readonly measurement?: string;
  /**
   * The `debug` flag, only when the flags field is present and no flagsMask says the
   * debug bit is not meaningful: absent flags say nothing about debugging.
   */
  readonly debug?: boolean;
  readonly svn?: number;
}

/** The outcome of reading the extension. */
export type DiceTcbInfoResult =
  | { readonly ok: true; readonly tcbInfo: DiceTcbInfo }
  | { readonly ok: false; readonly problem: string };

/** Hash algorithms accepted for the measurement, with their digest sizes. */
const HASH_ALGORITHMS: ReadonlyMap<string, { readonly name: string; readonly size: number }> =
  new Map([
    ["2.16.840.1.101.3.4.2.1", { name: "sha256", size: 32 }],
    ["2.16.840.1.101.3.4.2.2", { name: "sha384", size: 48 }],
    ["2.16.840.1.101.3.4.2.3", { name: "sha512", size: 64 }],
    ["2.16.840.1.101.3.4.2.8", { name: "sha3-256", size: 32 }],
    ["2.16.840.1.101.3.4.2.9", { name: "sha3-384", size: 48 }],
    ["2.16.840.1.101.3.4.2.10", { name: "sha3-512", size: 64 }],
  ]);

/** A digest of another algorithm is kept raw, but must still look like a digest. */
const MAX_DIGEST_BYTES = 64;
const MAX_FWIDS = 32;
const MAX_TEXT_LENGTH = 256;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

const FLAG_NAMES = [
  "notConfigured",
  "notSecure",
  "recovery",
  "debug",
  "notReplayProtected",
  "notIntegrityProtected",
  "notRuntimeMeasured",
  "notImmutable",
  "notTcb",
] as const;

/** Context-specific tag numbers, in the order DER requires them. */
const FIELD = {
  vendor: 0,
  model: 1,
  version: 2,
  svn: 3,
  layer: 4,
  index: 5,
  fwids: 6,
  flags: 7,
  vendorInfo: 8,
  type: 9,
  flagsMask: 10,
  integrityRegisters: 11,
} as const;
/** Fields whose IMPLICIT tag replaces a constructed type (SEQUENCE OF). */
const CONSTRUCTED_FIELDS: ReadonlySet<number> = new Set([FIELD.fwids, FIELD.integrityRegisters]);
const CONTEXT_CLASS = 0x80;
const CONSTRUCTED = 0x20;

function text(content: Uint8Array, what: string): string {
  const value = decodeUtf8(content, what);
  if (value.length > MAX_TEXT_LENGTH) throw new DerError(`${what}: longer than ${MAX_TEXT_LENGTH}`);
  if (CONTROL_CHARACTER.test(value)) throw new DerError(`${what}: holds a control character`);
  return value;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function readFwids(content: Uint8Array): DiceFwid[] {
  const reader = new DerReader(content);
  const fwids: DiceFwid[] = [];
  while (!reader.isDone) {
    if (fwids.length === MAX_FWIDS) throw new DerError(`fwids: more than ${MAX_FWIDS}`);
    const fwid = new DerReader(reader.readTagged(DER_TAG.sequence, "FWID"));
    const oid = decodeObjectIdentifier(
      fwid.readTagged(DER_TAG.objectIdentifier, "FWID hashAlg"),
      "FWID hashAlg",
    );
    const digest = fwid.readTagged(DER_TAG.octetString, "FWID digest");
    fwid.expectEnd("FWID");
    const algorithm = HASH_ALGORITHMS.get(oid);
    if (algorithm !== undefined && digest.length !== algorithm.size) {
      throw new DerError(`FWID digest: ${digest.length} bytes for ${algorithm.name}`);
    }
    if (digest.length === 0 || digest.length > MAX_DIGEST_BYTES) {
      throw new DerError(`FWID digest: ${digest.length} bytes`);
    }
    fwids.push(Object.freeze({ hashAlg: algorithm?.name ?? oid, digest: hex(digest) }));
  }
  // FWIDLIST ::= SEQUENCE SIZE (1..MAX): an empty list is not a DiceTcbInfo.
  if (fwids.length === 0) throw new DerError("fwids: empty FWIDLIST");
  return fwids;
}

function readFlags(bits: DerBitString): DiceOperationalFlags {
  return Object.freeze(
    Object.fromEntries(FLAG_NAMES.map((name, bit) => [name, bits.isSet(bit)])),
  ) as unknown as DiceOperationalFlags;
}

function readTcbInfo(value: Uint8Array): DiceTcbInfo {
  const reader = new DerReader(readSingle(value, DER_TAG.sequence, "DiceTcbInfo"));
  const info: { -readonly [K in keyof DiceTcbInfo]: DiceTcbInfo[K] } = {};
  let previous = -1;
  while (!reader.isDone) {
    const { tag, content } = reader.read();
    const number = tag & 0x1f;
    // A universal tag here (NVIDIA's INTEGER, say) means another structure altogether.
    if ((tag & 0xc0) !== CONTEXT_CLASS || number > FIELD.integrityRegisters) {
      throw new DerError(`unexpected tag 0x${tag.toString(16).padStart(2, "0")}`);
    }
    if (((tag & CONSTRUCTED) !== 0) !== CONSTRUCTED_FIELDS.has(number)) {
      throw new DerError(`field [${number}]: wrong encoding (primitive/constructed)`);
    }
    // DER writes SEQUENCE fields in definition order, each at most once.
    if (number <= previous) throw new DerError(`field [${number}]: out of order or repeated`);
    previous = number;
    switch (number) {
      case FIELD.vendor:
        info.vendor = text(content, "vendor");
        break;
      case FIELD.model:
        info.model = text(content, "model");
        break;
      case FIELD.version:
        info.version = text(content, "version");
        break;
      case FIELD.svn:
        info.svn = decodeSafeUnsignedInteger(content, "svn");
        break;
      case FIELD.layer:
        info.layer = decodeSafeUnsignedInteger(content, "layer");
        break;
      case FIELD.index:
        info.index = decodeSafeUnsignedInteger(content, "index");
        break;
      case FIELD.fwids:
        info.fwids = Object.freeze(readFwids(content));
        break;
      case FIELD.flags:
        info.flags = readFlags(decodeBitString(content, "flags"));
        break;
      case FIELD.vendorInfo:
        info.vendorInfo = hex(content);
        break;
      case FIELD.type:
        info.type = hex(content);
        break;
      case FIELD.flagsMask:
        info.flagsMask = readFlags(decodeBitString(content, "flagsMask"));
        break;
      default:
        info.integrityRegisters = hex(content);
        break;
    }
  }
  return Object.freeze(info);
}

/**
 * Reads a DiceTcbInfo from its extnValue content. Never throws: a structure that is
 * not exactly DiceTcbInfo in DER comes back as a problem text.
 */
export function parseDiceTcbInfo(value: Uint8Array): DiceTcbInfoResult {
  if (value.length > MAX_DICE_TCB_INFO_BYTES) {
    return { ok: false, problem: `larger than ${MAX_DICE_TCB_INFO_BYTES} bytes` };
  }
  try {
    const tcbInfo = readTcbInfo(value);
    const first = tcbInfo.fwids?.[0];
    // The first FWID becomes tee.measurement: an unknown algorithm would make it a
    // digest nobody can say the strength of.
    if (
      first !== undefined &&
      ![...HASH_ALGORITHMS.values()].some((a) => a.name === first.hashAlg)
    ) {
      return {
        ok: false,
        problem: `first FWID uses an unaccepted hash algorithm ${first.hashAlg}`,
      };
    }
    return { ok: true, tcbInfo };
  } catch (error: unknown) {
    if (error instanceof DerError)
      return { ok: false, problem: `not a DiceTcbInfo: ${error.message}` };
    throw error;
  }
}

/**
 * Maps a DiceTcbInfo onto `tee.*`: the first FWID's digest is the measurement, the
 * `debug` flag is `debug` (only when flags are present and not masked out), `svn`
 * is `svn`.
 */
export function teeStatementFromDiceTcbInfo(tcbInfo: DiceTcbInfo): DiceTeeStatement {
  const measurement = tcbInfo.fwids?.[0]?.digest;
  const isDebugMeaningful = tcbInfo.flags !== undefined && (tcbInfo.flagsMask?.debug ?? true);
  return Object.freeze({
    platform: "dice",
    ...(measurement === undefined ? {} : { measurement }),
    ...(isDebugMeaningful && tcbInfo.flags !== undefined ? { debug: tcbInfo.flags.debug } : {}),
    ...(tcbInfo.svn === undefined ? {} : { svn: tcbInfo.svn }),
  });
}
