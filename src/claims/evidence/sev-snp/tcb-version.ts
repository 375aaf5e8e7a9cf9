/**
 * The 8-byte TCB_VERSION of SEV-SNP (SEV-SNP Firmware ABI, "TCB_VERSION Structure"):
 * the security patch levels (SPLs) of the firmware components the endorsement key
 * is derived from. Its layout depends on the product line:
 *
 * | byte | Milan, Genoa | Turin      |
 * |------|--------------|------------|
 * | 0    | BOOT_LOADER  | FMC        |
 * | 1    | TEE          | BOOT_LOADER|
 * | 2    | reserved     | TEE        |
 * | 3    | reserved     | SNP        |
 * | 4    | reserved     | reserved   |
 * | 5    | reserved     | reserved   |
 * | 6    | SNP          | reserved   |
 * | 7    | MICROCODE    | MICROCODE  |
 *
 * Reading a Turin TCB with the Milan layout silently swaps the components, so the
 * layout is always chosen explicitly, never guessed from the bytes.
 */

/** `milan-genoa` for Milan and Genoa, `turin` for Turin (family 0x1A). */
export type TcbLayout = "milan-genoa" | "turin";

/** The components of a TCB version. `fmc` exists on Turin only. */
export interface TcbVersion {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
}

/** Size of a TCB_VERSION in bytes. */
export const TCB_VERSION_SIZE = 8;

const OFFSETS = {
  "milan-genoa": { bootloader: 0, tee: 1, snp: 6, microcode: 7, reserved: [2, 3, 4, 5] },
  turin: { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7, reserved: [4, 5, 6] },
} as const;

/** Decodes the named components of `raw` (8 bytes) in `layout`. */
export function decodeTcbVersion(raw: Uint8Array, layout: TcbLayout): TcbVersion {
  if (raw.length !== TCB_VERSION_SIZE) {
    throw new RangeError(`a TCB version is ${TCB_VERSION_SIZE} bytes, not ${raw.length}`);
  }
  const byte = (offset: number): number => raw[offset] ?? 0;
  if (layout === "turin") {
    const at = OFFSETS.turin;
    return {
      bootloader: byte(at.bootloader),
      tee: byte(at.tee),
      snp: byte(at.snp),
      microcode: byte(at.microcode),
      fmc: byte(at.fmc),
    };
  }
  const at = OFFSETS["milan-genoa"];
  return {
    bootloader: byte(at.bootloader),
    tee: byte(at.tee),
    snp: byte(at.snp),
    microcode: byte(at.microcode),
  };
}

/** Byte offsets that `layout` leaves reserved. */
export function reservedTcbOffsets(layout: TcbLayout): readonly number[] {
  return OFFSETS[layout].reserved;
}

/** Encodes components into the 8 bytes of `layout` (reserved bytes zero). */
export function encodeTcbVersion(tcb: TcbVersion, layout: TcbLayout): Buffer {
  const raw = Buffer.alloc(TCB_VERSION_SIZE);
  const at = OFFSETS[layout];
  raw[at.bootloader] = tcb.bootloader;
  raw[at.tee] = tcb.tee;
  raw[at.snp] = tcb.snp;
  raw[at.microcode] = tcb.microcode;
  if (layout === "turin") raw[OFFSETS.turin.fmc] = tcb.fmc ?? 0;
  return raw;
}
