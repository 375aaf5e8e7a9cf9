import { describe, expect, it } from "vitest";
import type { PckPlatform } from "../../../../../src/claims/evidence/tdx/pck-extensions.js";
import type { QeStanding } from "../../../../../src/claims/evidence/tdx/qe-identity.js";
import {
  evaluateTdxTcb,
  type TcbEvaluationInput,
} from "../../../../../src/claims/evidence/tdx/tcb-evaluation.js";
import type {
  IdentityTcbLevel,
  TcbLevelStatus,
  TdxTcbInfo,
  TdxTcbLevel,
} from "../../../../../src/claims/evidence/tdx/tcb-info.js";
import type { TdReport } from "../../../../../src/claims/evidence/tdx/tdx-quote.js";

const SGX = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
const sixteen = (prefix: readonly number[]): number[] =>
  Array.from({ length: 16 }, (_, i) => prefix[i] ?? 0);
const svn = (prefix: readonly number[]): Buffer => Buffer.from(sixteen(prefix));

function level(
  tdx: readonly number[],
  status: TcbLevelStatus,
  options: { sgx?: readonly number[]; pceSvn?: number; advisoryIds?: readonly string[] } = {},
): TdxTcbLevel {
  return {
    sgxTcbComponents: sixteen(options.sgx ?? SGX),
    pceSvn: options.pceSvn ?? 13,
    tdxTcbComponents: sixteen(tdx),
    tcbDate: 0,
    status,
    advisoryIds: options.advisoryIds ?? [],
  };
}

function moduleLevels(
  ...levels: [number, IdentityTcbLevel["status"], string[]?][]
): IdentityTcbLevel[] {
  return levels.map(([isvSvn, status, advisoryIds = []]) => ({ isvSvn, status, advisoryIds }));
}

const ZERO_SIGNER = Buffer.alloc(48);
const MODULE = {
  mrSigner: ZERO_SIGNER,
  attributes: Buffer.alloc(8),
  attributesMask: Buffer.alloc(8, 0xff),
};

function tcbInfo(
  levels: TdxTcbLevel[],
  modules = moduleLevels([3, "UpToDate"], [2, "OutOfDate"]),
): TdxTcbInfo {
  return {
    fmspc: Buffer.from("90c06f000000", "hex"),
    pceId: Buffer.from("0000", "hex"),
    issueDate: 0,
    nextUpdate: 1,
    tcbEvaluationDataNumber: 17,
    tdxModule: MODULE,
    tdxModuleIdentities: [{ id: "TDX_01", ...MODULE, tcbLevels: modules }],
    tcbLevels: levels,
  };
}

const PLATFORM: PckPlatform = {
  fmspc: Buffer.from("90c06f000000", "hex"),
  pceId: Buffer.from("0000", "hex"),
  sgxTcbComponents: SGX,
  pceSvn: 13,
  cpuSvn: Buffer.from(SGX),
};

function report(teeTcbSvn: readonly number[], extra: Partial<TdReport> = {}): TdReport {
  return {
    bodyType: 2,
    teeTcbSvn: svn(teeTcbSvn),
    mrSeam: Buffer.alloc(48),
    mrSignerSeam: ZERO_SIGNER,
    seamAttributes: Buffer.alloc(8),
    tdAttributes: Buffer.alloc(8),
    xfam: Buffer.alloc(8),
    mrTd: Buffer.alloc(48),
    mrConfigId: Buffer.alloc(48),
    mrOwner: Buffer.alloc(48),
    mrOwnerConfig: Buffer.alloc(48),
    rtmrs: [Buffer.alloc(48), Buffer.alloc(48), Buffer.alloc(48), Buffer.alloc(48)],
    reportData: Buffer.alloc(64),
    teeTcbSvn2: undefined,
    mrServiceTd: undefined,
    ...extra,
  };
}

const QE_CURRENT: QeStanding = { status: "UpToDate", advisoryIds: [] };
const TWO_LEVELS = [
  level([3, 1, 3], "UpToDate"),
  level([3, 1, 2], "OutOfDate", { advisoryIds: ["INTEL-SA-00837"] }),
];

function evaluate(overrides: Partial<TcbEvaluationInput>): unknown {
  const result = evaluateTdxTcb({
    tcbInfo: tcbInfo(TWO_LEVELS),
    platform: PLATFORM,
    report: report([3, 1, 3]),
    qe: QE_CURRENT,
    ...overrides,
  });
  return result.ok ? result.evaluation : result.problem;
}

describe("evaluateTdxTcb", () => {
  it.each([
    ["the newest level", {}, { status: "UpToDate", advisoryIds: [] }],
    [
      "an older level, with its advisories",
      { report: report([3, 1, 2]) },
      { status: "OutOfDate", advisoryIds: ["INTEL-SA-00837"] },
    ],
    [
      "no level when a TDX component is below all of them",
      { report: report([3, 1, 1]) },
      { status: "NoMatchingTcbLevel", advisoryIds: [] },
    ],
    [
      "no level when an SGX component is below all of them",
      { platform: { ...PLATFORM, sgxTcbComponents: sixteen([3, 3, 2, 2, 4, 1, 0, 3]) } },
      { status: "NoMatchingTcbLevel", advisoryIds: [] },
    ],
    [
      "a lower level when the PCE SVN is below the newest",
      {
        tcbInfo: tcbInfo([
          level([3, 1, 3], "UpToDate", { pceSvn: 14 }),
          level([3, 1, 3], "SWHardeningNeeded"),
        ]),
      },
      { status: "SWHardeningNeeded", advisoryIds: [] },
    ],
    [
      "components 0 and 1 left to the module identity when the module version is above 0",
      { tcbInfo: tcbInfo([level([9, 9, 3], "UpToDate")]) },
      { status: "UpToDate", advisoryIds: [] },
    ],
    [
      "component 0 compared when the module version is 0",
      { tcbInfo: tcbInfo([level([9, 0, 3], "UpToDate")]), report: report([3, 0, 3]) },
      { status: "NoMatchingTcbLevel", advisoryIds: [] },
    ],
    [
      "an out-of-date module lowering UpToDate",
      { report: report([2, 1, 3]) },
      { status: "OutOfDate", advisoryIds: [] },
    ],
    [
      "an out-of-date module lowering ConfigurationNeeded",
      { tcbInfo: tcbInfo([level([0, 0, 3], "ConfigurationNeeded")]), report: report([2, 1, 3]) },
      { status: "OutOfDateConfigurationNeeded", advisoryIds: [] },
    ],
    [
      "a revoked module",
      {
        tcbInfo: tcbInfo(TWO_LEVELS, moduleLevels([3, "UpToDate"], [2, "Revoked", ["INTEL-SA-1"]])),
        report: report([2, 1, 3]),
      },
      { status: "Revoked", advisoryIds: ["INTEL-SA-1"] },
    ],
    [
      "a module SVN below every module level",
      { report: report([1, 1, 3]) },
      { status: "NoMatchingTcbLevel", advisoryIds: [] },
    ],
    [
      "an out-of-date QE lowering the platform's status",
      { qe: { status: "OutOfDate", advisoryIds: ["INTEL-SA-00615"] } },
      { status: "OutOfDate", advisoryIds: ["INTEL-SA-00615"] },
    ],
    [
      "a revoked QE",
      { qe: { status: "Revoked", advisoryIds: [] } },
      { status: "Revoked", advisoryIds: [] },
    ],
    [
      "a QE below every identity level",
      { qe: { status: "NoMatchingTcbLevel", advisoryIds: [] } },
      { status: "NoMatchingTcbLevel", advisoryIds: [] },
    ],
    [
      "advisories of every source, once each",
      {
        tcbInfo: tcbInfo(
          [level([0, 0, 3], "SWHardeningNeeded", { advisoryIds: ["INTEL-SA-A", "INTEL-SA-B"] })],
          moduleLevels([3, "UpToDate", ["INTEL-SA-B", "INTEL-SA-C"]]),
        ),
        qe: { status: "UpToDate", advisoryIds: ["INTEL-SA-A", "INTEL-SA-D"] },
      },
      {
        status: "SWHardeningNeeded",
        advisoryIds: ["INTEL-SA-A", "INTEL-SA-B", "INTEL-SA-C", "INTEL-SA-D"],
      },
    ],
  ] as const)("finds %s", (_name, overrides, expected) => {
    expect(evaluate(overrides)).toEqual(expected);
  });

  it.each([
    [
      "a module version the TCB info has no identity for",
      { report: report([3, 2, 3]) },
      "TCB info has no TDX module identity TDX_02",
    ],
    [
      "another TDX module signer",
      { report: report([3, 1, 3], { mrSignerSeam: Buffer.alloc(48, 1) }) },
      "MRSIGNERSEAM is not the TDX module signer the TCB info names",
    ],
    [
      "SEAM attributes outside the expected ones",
      { report: report([3, 1, 3], { seamAttributes: Buffer.from("0100000000000000", "hex") }) },
      "SEAMATTRIBUTES do not match the TCB info's TDX module attributes",
    ],
    [
      "another PCE",
      { platform: { ...PLATFORM, pceId: Buffer.from("0001", "hex") } },
      "TCB info is for PCE ID 0000, the PCK certificate has 0001",
    ],
  ] as const)("refuses %s", (_name, overrides, problem) => {
    expect(evaluate(overrides)).toBe(problem);
  });

  describe("TD relaunch (TDX 1.5)", () => {
    const tdx15 = (teeTcbSvn: number[], teeTcbSvn2: number[]): TdReport =>
      report(teeTcbSvn, {
        bodyType: 3,
        teeTcbSvn2: svn(teeTcbSvn2),
        mrServiceTd: Buffer.alloc(48),
      });

    it.each([
      [
        "advised when the loaded module is current",
        { report: tdx15([2, 1, 2], [3, 1, 3]) },
        "TDRelaunchAdvised",
      ],
      [
        "advised with configuration when the SGX level needs configuration",
        {
          tcbInfo: tcbInfo([
            level([3, 1, 3], "ConfigurationNeeded"),
            level([3, 1, 2], "OutOfDate"),
          ]),
          report: tdx15([2, 1, 2], [3, 1, 3]),
        },
        "TDRelaunchAdvisedConfigurationNeeded",
      ],
      [
        "not advised when the loaded module is out of date too",
        { report: tdx15([2, 1, 2], [2, 1, 3]) },
        "OutOfDate",
      ],
      [
        "not advised when the QE is out of date",
        { report: tdx15([2, 1, 2], [3, 1, 3]), qe: { status: "OutOfDate", advisoryIds: [] } },
        "OutOfDate",
      ],
      ["not needed when the TD is current", { report: tdx15([3, 1, 3], [3, 1, 3]) }, "UpToDate"],
    ] as const)("%s", (_name, overrides, status) => {
      expect(evaluate(overrides)).toMatchObject({ status });
    });

    it("refuses a loaded module version without identity", () => {
      expect(evaluate({ report: tdx15([2, 1, 2], [3, 7, 3]) })).toBe(
        "TCB info has no TDX module identity TDX_07 (TEE_TCB_SVN2)",
      );
    });
  });
});
