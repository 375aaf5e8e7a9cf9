/**
 * Intel's TDX TCB info (PCS "TCB Info" version 3, `id` "TDX"): for one FMSPC, the TCB
 * levels in the order Intel signed them (newest first), each with the SGX TCB components
 * and PCE SVN the PCK certificate must reach, the TDX TCB components TEE_TCB_SVN must
 * reach, and the status that level carries; plus the TDX module's expected signer and
 * attributes, per module major version in `tdxModuleIdentities`.
 */
import {
  type JsonObject,
  CollateralFormatError,
  asObject,
  readAdvisoryIds,
  readArray,
  readDate,
  readEnum,
  readHex,
  readString,
  readUint,
} from "./json-fields.js";

/** The statuses a platform TCB level can carry. */
export const TCB_LEVEL_STATUSES = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
] as const;
/** A platform TCB level's status, as Intel writes it. */
export type TcbLevelStatus = (typeof TCB_LEVEL_STATUSES)[number];

/**
 * What an enclave or TDX module identity level means: Intel's verifier reads any status
 * other than UpToDate and Revoked on such a level as OutOfDate, and so does this code.
 */
export type IdentityLevelStatus = "UpToDate" | "OutOfDate" | "Revoked";

/** One TCB level: what the platform must reach, and the status reaching it earns. */
export interface TdxTcbLevel {
  /** 16 SVNs. */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  /** 16 SVNs, compared with TEE_TCB_SVN. */
  readonly tdxTcbComponents: readonly number[];
  readonly tcbDate: number;
  readonly status: TcbLevelStatus;
  readonly advisoryIds: readonly string[];
}

/** Expected TDX module signer and attributes. */
export interface TdxModuleExpectation {
  readonly mrSigner: Buffer;
  readonly attributes: Buffer;
  readonly attributesMask: Buffer;
}

/** A TDX module major version's identity (`TDX_01` ...) and its ISVSVN levels. */
export interface TdxModuleIdentity extends TdxModuleExpectation {
  readonly id: string;
  readonly tcbLevels: readonly IdentityTcbLevel[];
}

/** A level of an identity: reaching `isvSvn` earns `status`. */
export interface IdentityTcbLevel {
  readonly isvSvn: number;
  readonly status: IdentityLevelStatus;
  readonly advisoryIds: readonly string[];
}

/** A verified TDX TCB info, for one FMSPC. */
export interface TdxTcbInfo {
  readonly fmspc: Buffer;
  readonly pceId: Buffer;
  readonly issueDate: number;
  readonly nextUpdate: number;
  readonly tcbEvaluationDataNumber: number;
  readonly tdxModule: TdxModuleExpectation;
  readonly tdxModuleIdentities: readonly TdxModuleIdentity[];
  readonly tcbLevels: readonly TdxTcbLevel[];
}

const PATH = "tcbInfo";
const MAX_LEVELS = 256;

/** Reads a signed `tcbInfo` document. Throws `CollateralFormatError`. */
export function parseTdxTcbInfo(document: unknown): TdxTcbInfo {
  const info = asObject(document, PATH);
  const id = readString(info, "id", PATH);
  if (id !== "TDX") throw new CollateralFormatError(`${PATH}.id: "${id}" is not "TDX"`);
  const version = readUint(info, "version", PATH, 0xffff);
  if (version !== 3) throw new CollateralFormatError(`${PATH}.version: ${version} is not 3`);
  const tcbType = readUint(info, "tcbType", PATH, 0xffff);
  if (tcbType !== 0) throw new CollateralFormatError(`${PATH}.tcbType: ${tcbType} is not 0`);
  const levels = readArray(info, "tcbLevels", PATH);
  if (levels.length === 0 || levels.length > MAX_LEVELS) {
    throw new CollateralFormatError(`${PATH}.tcbLevels: expected 1 to ${MAX_LEVELS} levels`);
  }
  const identities =
    info["tdxModuleIdentities"] === undefined
      ? []
      : readArray(info, "tdxModuleIdentities", PATH).map((value, index) =>
          readModuleIdentity(value, `${PATH}.tdxModuleIdentities[${index}]`),
        );
  return {
    fmspc: readHex(info, "fmspc", PATH, 6),
    pceId: readHex(info, "pceId", PATH, 2),
    issueDate: readDate(info, "issueDate", PATH),
    nextUpdate: readDate(info, "nextUpdate", PATH),
    tcbEvaluationDataNumber: readUint(info, "tcbEvaluationDataNumber", PATH, 0xffffffff),
    tdxModule: readModuleExpectation(
      asObject(info["tdxModule"], `${PATH}.tdxModule`),
      `${PATH}.tdxModule`,
    ),
    tdxModuleIdentities: identities,
    tcbLevels: levels.map((value, index) => readTcbLevel(value, `${PATH}.tcbLevels[${index}]`)),
  };
}

/** Reads the levels of an identity (QE identity, TDX module identity). */
export function readIdentityLevels(object: JsonObject, path: string): readonly IdentityTcbLevel[] {
  const levels = readArray(object, "tcbLevels", path);
  if (levels.length === 0 || levels.length > MAX_LEVELS) {
    throw new CollateralFormatError(`${path}.tcbLevels: expected 1 to ${MAX_LEVELS} levels`);
  }
  return levels.map((value, index) => {
    const where = `${path}.tcbLevels[${index}]`;
    const level = asObject(value, where);
    readDate(level, "tcbDate", where);
    return {
      isvSvn: readUint(asObject(level["tcb"], `${where}.tcb`), "isvsvn", `${where}.tcb`, 0xffff),
      status: toIdentityStatus(readEnum(level, "tcbStatus", where, TCB_LEVEL_STATUSES)),
      advisoryIds: readAdvisoryIds(level, where),
    };
  });
}

function toIdentityStatus(status: TcbLevelStatus): IdentityLevelStatus {
  return status === "UpToDate" || status === "Revoked" ? status : "OutOfDate";
}

function readModuleExpectation(object: JsonObject, path: string): TdxModuleExpectation {
  return {
    mrSigner: readHex(object, "mrsigner", path, 48),
    attributes: readHex(object, "attributes", path, 8),
    attributesMask: readHex(object, "attributesMask", path, 8),
  };
}

function readModuleIdentity(value: unknown, path: string): TdxModuleIdentity {
  const identity = asObject(value, path);
  const id = readString(identity, "id", path);
  if (!/^TDX_[0-9A-Fa-f]{2}$/.test(id)) {
    throw new CollateralFormatError(`${path}.id: "${id}" is not TDX_<hex byte>`);
  }
  return {
    id: id.toUpperCase(),
    ...readModuleExpectation(identity, path),
    tcbLevels: readIdentityLevels(identity, path),
  };
}

function readTcbLevel(value: unknown, path: string): TdxTcbLevel {
  const level = asObject(value, path);
  const tcb = asObject(level["tcb"], `${path}.tcb`);
  return {
    sgxTcbComponents: readComponents(tcb, "sgxtcbcomponents", `${path}.tcb`),
    pceSvn: readUint(tcb, "pcesvn", `${path}.tcb`, 0xffff),
    tdxTcbComponents: readComponents(tcb, "tdxtcbcomponents", `${path}.tcb`),
    tcbDate: readDate(level, "tcbDate", path),
    status: readEnum(level, "tcbStatus", path, TCB_LEVEL_STATUSES),
    advisoryIds: readAdvisoryIds(level, path),
  };
}

function readComponents(tcb: JsonObject, name: string, path: string): readonly number[] {
  const components = readArray(tcb, name, path);
  if (components.length !== 16) {
    throw new CollateralFormatError(`${path}.${name}: ${components.length} components, not 16`);
  }
  // Components are bytes in the PCK certificate and TEE_TCB_SVN; Intel's schema and verifier
  // read wider integers, and a requirement no byte reaches only ever fails to match.
  return components.map((component, index) =>
    readUint(
      asObject(component, `${path}.${name}[${index}]`),
      "svn",
      `${path}.${name}[${index}]`,
      0xffff,
    ),
  );
}
