/**
 * The TCB status of a TDX platform, computed the way Intel's Quote Verification Library
 * does (QVL `TcbLevelCheck`, `TdxModuleCheck`, `TDRelaunchCheck`):
 *
 * 1. The TDX module must be the one the TCB info names: MRSIGNERSEAM equal, SEAMATTRIBUTES
 *    equal under the mask (for a module major version TEE_TCB_SVN[1] > 0, the expectation of
 *    `tdxModuleIdentities["TDX_<version>"]`). A mismatch refuses the quote.
 * 2. The TCB levels are walked in the order Intel signed them (newest first). The first level
 *    whose 16 SGX components and PCE SVN the PCK certificate reaches is the SGX level; from it
 *    on, the first whose 16 TDX components TEE_TCB_SVN reaches is the TDX level (components 0
 *    and 1, the module's SVN and version, are skipped when the version is above 0: the module
 *    identity judges them).
 * 3. The module identity's level for TEE_TCB_SVN[0], and the QE identity's level, can only
 *    lower the status (OutOfDate, Revoked), never raise it.
 * 4. A TDX 1.5 report whose loaded module (TEE_TCB_SVN2) is current while the TD still runs
 *    on an out-of-date one gets TDRelaunchAdvised.
 *
 * Where Intel's library answers "TCB not supported" (no SGX level, no TDX level, no module or
 * QE level reached), this returns `NoMatchingTcbLevel`: the quote is genuine, but its platform
 * is not one any level describes, so a policy asking for UpToDate (or any listed status)
 * refuses it.
 */
import type { PckPlatform } from "./pck-extensions.js";
import type { QeStanding } from "./qe-identity.js";
import type { TdReport } from "./tdx-quote.js";
import type {
  IdentityLevelStatus,
  TcbLevelStatus,
  TdxModuleExpectation,
  TdxModuleIdentity,
  TdxTcbInfo,
  TdxTcbLevel,
} from "./tcb-info.js";

/** Every status `evaluateTdxTcb` can produce. */
export type TdxTcbStatus =
  | TcbLevelStatus
  | "TDRelaunchAdvised"
  | "TDRelaunchAdvisedConfigurationNeeded"
  | "NoMatchingTcbLevel";

/** The platform's TCB status, and the advisories that apply. */
export interface TcbEvaluation {
  readonly status: TdxTcbStatus;
  /** Advisories of the TDX TCB level, the module level and the QE level, without repeats. */
  readonly advisoryIds: readonly string[];
}

/** What the TCB is judged from: the signed TCB info, the PCK certificate, the TD report, the QE. */
export interface TcbEvaluationInput {
  readonly tcbInfo: TdxTcbInfo;
  readonly platform: PckPlatform;
  readonly report: TdReport;
  readonly qe: QeStanding;
}

/** Evaluates the platform TCB. A TDX module that is not the expected one is a problem. */
export function evaluateTdxTcb(
  input: TcbEvaluationInput,
): { ok: true; evaluation: TcbEvaluation } | { ok: false; problem: string } {
  const { tcbInfo, platform, report, qe } = input;
  if (!platform.pceId.equals(tcbInfo.pceId)) {
    return {
      ok: false,
      problem: `TCB info is for PCE ID ${hex(tcbInfo.pceId)}, the PCK certificate has ${hex(platform.pceId)}`,
    };
  }
  const teeTcbSvn = report.teeTcbSvn;
  const moduleVersion = teeTcbSvn[1] ?? 0;
  const moduleIsvSvn = teeTcbSvn[0] ?? 0;

  // 1. The module's signer and attributes.
  let moduleIdentity: TdxModuleIdentity | undefined;
  let expected: TdxModuleExpectation = tcbInfo.tdxModule;
  if (moduleVersion > 0) {
    moduleIdentity = findModuleIdentity(tcbInfo, moduleVersion);
    if (moduleIdentity === undefined) {
      return {
        ok: false,
        problem: `TCB info has no TDX module identity ${moduleId(moduleVersion)}`,
      };
    }
    expected = moduleIdentity;
  }
  if (!report.mrSignerSeam.equals(expected.mrSigner)) {
    return { ok: false, problem: "MRSIGNERSEAM is not the TDX module signer the TCB info names" };
  }
  if (
    !masked(report.seamAttributes, expected.attributesMask).equals(
      masked(expected.attributes, expected.attributesMask),
    )
  ) {
    return {
      ok: false,
      problem: "SEAMATTRIBUTES do not match the TCB info's TDX module attributes",
    };
  }

  // 2. The SGX and TDX levels.
  const levels = tcbInfo.tcbLevels;
  const sgxIndex = levels.findIndex((level) => reachesSgxLevel(platform, level));
  const sgxLevel = levels[sgxIndex];
  if (sgxLevel === undefined) return noMatch();
  const tdxLevel = levels
    .slice(sgxIndex)
    .find((level) => reachesSgxLevel(platform, level) && reachesTdxLevel(teeTcbSvn, level));
  if (tdxLevel === undefined) return noMatch();

  // 3. The module level.
  let moduleStatus: IdentityLevelStatus = "UpToDate";
  let moduleAdvisories: readonly string[] = [];
  if (moduleIdentity !== undefined) {
    const moduleLevel = moduleIdentity.tcbLevels.find((level) => moduleIsvSvn >= level.isvSvn);
    if (moduleLevel === undefined) return noMatch();
    moduleStatus = moduleLevel.status;
    moduleAdvisories = moduleLevel.advisoryIds;
  }
  let status: TdxTcbStatus = lowerBy(tdxLevel.status, moduleStatus);

  // 4. TD relaunch (TDX 1.5), then the QE.
  if (status !== "Revoked" && report.teeTcbSvn2 !== undefined) {
    const relaunch = checkRelaunch(
      report.teeTcbSvn2,
      tcbInfo,
      sgxLevel.status,
      status,
      moduleStatus,
      qe,
    );
    if (relaunch === "module-mismatch") {
      return {
        ok: false,
        problem: `TCB info has no TDX module identity ${moduleId(report.teeTcbSvn2[1] ?? 0)} (TEE_TCB_SVN2)`,
      };
    }
    status = relaunch;
  }
  if (status !== "Revoked") {
    if (qe.status === "NoMatchingTcbLevel") return noMatch();
    if (qe.status === "Revoked") status = "Revoked";
    else if (qe.status === "OutOfDate") status = lowerBy(status, "OutOfDate");
  }
  const advisoryIds = [
    ...new Set([...tdxLevel.advisoryIds, ...moduleAdvisories, ...qe.advisoryIds]),
  ];
  return { ok: true, evaluation: { status, advisoryIds } };
}

function noMatch(): { ok: true; evaluation: TcbEvaluation } {
  return { ok: true, evaluation: { status: "NoMatchingTcbLevel", advisoryIds: [] } };
}

function reachesSgxLevel(platform: PckPlatform, level: TdxTcbLevel): boolean {
  return (
    platform.pceSvn >= level.pceSvn &&
    level.sgxTcbComponents.every((svn, index) => (platform.sgxTcbComponents[index] ?? 0) >= svn)
  );
}

function reachesTdxLevel(teeTcbSvn: Buffer, level: TdxTcbLevel): boolean {
  const first = (teeTcbSvn[1] ?? 0) > 0 ? 2 : 0;
  return level.tdxTcbComponents.every(
    (svn, index) => index < first || (teeTcbSvn[index] ?? 0) >= svn,
  );
}

/** An OutOfDate or Revoked identity (module or QE) lowers a level's status; UpToDate keeps it. */
function lowerBy(status: TdxTcbStatus, identity: IdentityLevelStatus): TdxTcbStatus {
  if (identity === "Revoked") return "Revoked";
  if (identity === "OutOfDate") {
    if (status === "UpToDate" || status === "SWHardeningNeeded") return "OutOfDate";
    if (status === "ConfigurationNeeded" || status === "ConfigurationAndSWHardeningNeeded") {
      return "OutOfDateConfigurationNeeded";
    }
  }
  return status;
}

const CONFIGURATION_NEEDED: readonly TdxTcbStatus[] = [
  "ConfigurationNeeded",
  "OutOfDateConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "TDRelaunchAdvisedConfigurationNeeded",
];

/**
 * Intel's TD relaunch check: the TD runs on an out-of-date module (TEE_TCB_SVN), but the
 * module now loaded (TEE_TCB_SVN2) reaches the newest level, so relaunching the TD would
 * bring it up to date.
 */
function checkRelaunch(
  teeTcbSvn2: Buffer,
  tcbInfo: TdxTcbInfo,
  sgxStatus: TcbLevelStatus,
  tdxStatus: TdxTcbStatus,
  moduleStatus: IdentityLevelStatus,
  qe: QeStanding,
): TdxTcbStatus | "module-mismatch" {
  const isQeCurrent = qe.status === undefined || qe.status === "UpToDate";
  const isSgxCurrent =
    sgxStatus === "UpToDate" ||
    sgxStatus === "SWHardeningNeeded" ||
    sgxStatus === "ConfigurationNeeded" ||
    sgxStatus === "ConfigurationAndSWHardeningNeeded";
  const isTdxOutOfDate = tdxStatus === "OutOfDate" || tdxStatus === "OutOfDateConfigurationNeeded";
  if (!isQeCurrent || !isSgxCurrent || !isTdxOutOfDate || moduleStatus !== "OutOfDate") {
    return tdxStatus;
  }
  const latest = tcbInfo.tcbLevels[0];
  if (latest === undefined) return tdxStatus;
  const version2 = teeTcbSvn2[1] ?? 0;
  let requiredModuleSvn = latest.tdxTcbComponents[0] ?? 0;
  if (version2 > 0) {
    const identity = findModuleIdentity(tcbInfo, version2);
    if (identity === undefined) return "module-mismatch";
    requiredModuleSvn = identity.tcbLevels[0]?.isvSvn ?? Number.POSITIVE_INFINITY;
  }
  const reachesLatest =
    (teeTcbSvn2[0] ?? 0) >= requiredModuleSvn &&
    (teeTcbSvn2[2] ?? 0) >= (latest.tdxTcbComponents[2] ?? 0);
  if (!reachesLatest) return tdxStatus;
  return CONFIGURATION_NEEDED.includes(sgxStatus) || CONFIGURATION_NEEDED.includes(tdxStatus)
    ? "TDRelaunchAdvisedConfigurationNeeded"
    : "TDRelaunchAdvised";
}

function findModuleIdentity(tcbInfo: TdxTcbInfo, version: number): TdxModuleIdentity | undefined {
  const id = moduleId(version);
  return tcbInfo.tdxModuleIdentities.find((identity) => identity.id === id);
}

function moduleId(version: number): string {
  return `TDX_${version.toString(16).padStart(2, "0").toUpperCase()}`;
}

function masked(bytes: Buffer, mask: Buffer): Buffer {
  return Buffer.from(bytes.map((byte, index) => byte & (mask[index] ?? 0)));
}

function hex(bytes: Buffer): string {
  return bytes.toString("hex");
}
