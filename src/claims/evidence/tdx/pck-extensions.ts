/**
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): which
 * platform the key belongs to (FMSPC, PCE ID) and the TCB it was issued for (16 SGX TCB
 * component SVNs, the PCE SVN and the CPU SVN). Read with the strict DER reader: the
 * values decide the TCB level, so an encoding two parsers could read differently is
 * refused. Members this code does not use (PPID, SGX type, platform instance, the
 * platform configuration) are skipped, but no member may appear twice.
 */
import { readCertificateExtensions } from "../../certificate-extensions.js";
import {
  DER_TAG,
  type DerElement,
  DerError,
  DerReader,
  decodeObjectIdentifier,
  decodeSafeUnsignedInteger,
  readSingle,
} from "../../der-reader.js";

/** The SGX extension's OID; its members are numbered below it. */
export const SGX_EXTENSION_OID = "1.2.840.113741.1.13.1";
const TCB_OID = `${SGX_EXTENSION_OID}.2`;
const PCE_ID_OID = `${SGX_EXTENSION_OID}.3`;
const FMSPC_OID = `${SGX_EXTENSION_OID}.4`;
const PCESVN_OID = `${TCB_OID}.17`;
const CPUSVN_OID = `${TCB_OID}.18`;

/** What verification needs from a PCK certificate. */
export interface PckPlatform {
  /** Family-Model-Stepping-Platform-CustomSKU, 6 bytes. */
  readonly fmspc: Buffer;
  /** 2 bytes. */
  readonly pceId: Buffer;
  /** The 16 SGX TCB component SVNs (0-255 each). */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  readonly cpuSvn: Buffer;
}

/** Reads the SGX extension of a DER PCK certificate. Never throws. */
export function readPckPlatform(
  certificate: Uint8Array,
): { ok: true; platform: PckPlatform } | { ok: false; problem: string } {
  try {
    const extensions = readCertificateExtensions(certificate).filter(
      (extension) => extension.oid === SGX_EXTENSION_OID,
    );
    const [extension] = extensions;
    if (extension === undefined || extensions.length !== 1) {
      return { ok: false, problem: "PCK certificate: no single SGX extension" };
    }
    return { ok: true, platform: readSgxExtension(extension.value) };
  } catch (e: unknown) {
    if (e instanceof DerError) return { ok: false, problem: `PCK SGX extension: ${e.message}` };
    throw e;
  }
}

function readSgxExtension(value: Uint8Array): PckPlatform {
  const members = readMembers(
    readSingle(value, DER_TAG.sequence, "SGX extension"),
    "SGX extension",
  );
  const tcb = members.get(TCB_OID);
  const pceId = members.get(PCE_ID_OID);
  const fmspc = members.get(FMSPC_OID);
  if (tcb === undefined || pceId === undefined || fmspc === undefined) {
    throw new DerError("missing TCB, PCE-ID or FMSPC");
  }
  const tcbMembers = readMembers(contentOf(tcb, DER_TAG.sequence, "TCB"), "TCB");
  const sgxTcbComponents: number[] = [];
  for (let index = 1; index <= 16; index++) {
    const component = tcbMembers.get(`${TCB_OID}.${index}`);
    if (component === undefined) throw new DerError(`TCB: missing component ${index}`);
    const svn = decodeSafeUnsignedInteger(
      contentOf(component, DER_TAG.integer, `component ${index}`),
      `component ${index}`,
    );
    if (svn > 0xff) throw new DerError(`TCB: component ${index} SVN ${svn} exceeds 255`);
    sgxTcbComponents.push(svn);
  }
  const pceSvnElement = tcbMembers.get(PCESVN_OID);
  const cpuSvnElement = tcbMembers.get(CPUSVN_OID);
  if (pceSvnElement === undefined || cpuSvnElement === undefined) {
    throw new DerError("TCB: missing PCESVN or CPUSVN");
  }
  const pceSvn = decodeSafeUnsignedInteger(
    contentOf(pceSvnElement, DER_TAG.integer, "PCESVN"),
    "PCESVN",
  );
  if (pceSvn > 0xffff) throw new DerError(`TCB: PCESVN ${pceSvn} exceeds 65535`);
  const cpuSvn = exactOctets(cpuSvnElement, 16, "CPUSVN");
  // The components are the CPUSVN's bytes; a certificate where they differ is not Intel's.
  if (sgxTcbComponents.some((svn, index) => cpuSvn[index] !== svn)) {
    throw new DerError("TCB: component SVNs differ from CPUSVN");
  }
  return {
    fmspc: exactOctets(fmspc, 6, "FMSPC"),
    pceId: exactOctets(pceId, 2, "PCE-ID"),
    sgxTcbComponents,
    pceSvn,
    cpuSvn,
  };
}

/** SEQUENCE OF SEQUENCE { OID, value }: each value by OID; no OID twice. */
function readMembers(content: Uint8Array, what: string): Map<string, DerElement> {
  const members = new Map<string, DerElement>();
  const list = new DerReader(content);
  while (!list.isDone) {
    const member = new DerReader(list.readTagged(DER_TAG.sequence, what));
    const oid = decodeObjectIdentifier(member.readTagged(DER_TAG.objectIdentifier, what), what);
    const value = member.read();
    member.expectEnd(`${what} member ${oid}`);
    if (members.has(oid)) throw new DerError(`${what}: ${oid} appears twice`);
    members.set(oid, value);
  }
  return members;
}

function contentOf(element: DerElement, tag: number, what: string): Uint8Array {
  if (element.tag !== tag)
    throw new DerError(`${what}: unexpected tag 0x${element.tag.toString(16)}`);
  return element.content;
}

function exactOctets(element: DerElement, length: number, what: string): Buffer {
  const content = contentOf(element, DER_TAG.octetString, what);
  if (content.length !== length) {
    throw new DerError(`${what}: ${content.length} bytes, expected ${length}`);
  }
  return Buffer.from(content);
}
