import { describe, expect, it } from "vitest";
import {
  findStaleCollateral,
  loadTdxCollateral,
  type TdxCollateralSources,
} from "../../../../../src/claims/evidence/tdx/tdx-collateral.js";
import { tdxTestPki } from "../../../../support/evidence/tdx-factory.js";
import {
  DCAP_QVL_OUTDATED_TIME,
  DCAP_QVL_TIME,
  GO_TDX_GUEST_TIME,
  dcapQvlCollateral,
  goTdxGuestCollateral,
  readTdxVector,
} from "./tdx-vectors.js";

function problemsOf(
  sources: TdxCollateralSources,
  options: { root?: string; now?: number } = {},
): readonly string[] {
  const load = loadTdxCollateral(sources, options);
  return load.ok ? [] : load.problems;
}

const text = (relative: string): string => readTdxVector(relative).toString("utf8");

describe("loadTdxCollateral with real PCS collateral", () => {
  it("verifies dcap-qvl's collateral (signed member text and hex signature kept apart)", () => {
    for (const [file, now] of [
      ["tdx_quote_collateral.json", DCAP_QVL_TIME],
      ["tdx_quote_outdated_collateral.json", DCAP_QVL_OUTDATED_TIME],
    ] as const) {
      const load = loadTdxCollateral(dcapQvlCollateral(file), { now });
      if (!load.ok) throw new Error(load.problems.join("; "));
      expect(load.collateral.qeIdentity.mrSigner.toString("hex")).toBe(
        "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5",
      );
    }
  });

  it("verifies go-tdx-guest's raw PCS response bodies", () => {
    const load = loadTdxCollateral(goTdxGuestCollateral(), { now: GO_TDX_GUEST_TIME });
    if (!load.ok) throw new Error(load.problems.join("; "));
    expect([...load.collateral.tcbInfos.keys()]).toEqual(["50806f000000"]);
    expect(load.collateral.tcbInfos.get("50806f000000")?.tcbEvaluationDataNumber).toBe(15);
    expect(load.collateral.pckCrls).toHaveLength(1);
    expect(load.collateral.pckCrls[0]?.crl.revokedSerials.size).toBeGreaterThan(0);
  });

  it("holds TCB infos for several FMSPCs, each verified (go-tdx-guest's v5 body, dcap-qvl's text)", () => {
    const outdated = dcapQvlCollateral("tdx_quote_outdated_collateral.json");
    const load = loadTdxCollateral(
      { ...outdated, tcbInfo: [text("go-tdx-guest/sample_tcbinfo_response_v5")] },
      { now: DCAP_QVL_OUTDATED_TIME },
    );
    if (!load.ok) throw new Error(load.problems.join("; "));
    expect([...load.collateral.tcbInfos.keys()]).toEqual(["90c06f000000"]);
    expect(
      problemsOf({
        ...outdated,
        tcbInfo: [outdated.tcbInfo as string, text("go-tdx-guest/sample_tcbinfo_response_v5")],
      }),
    ).toEqual(["TCB info 1: a second TCB info for FMSPC 90c06f000000"]);
  });

  it("refuses a TCB info whose signed bytes changed, even by one byte", () => {
    const body = text("go-tdx-guest/sample_tcbInfo_response");
    const tampered = body.replace('"tcbEvaluationDataNumber":15', '"tcbEvaluationDataNumber":16');
    expect(tampered).not.toBe(body);
    expect(problemsOf({ ...goTdxGuestCollateral(), tcbInfo: tampered })).toEqual([
      "TCB info 0: signature does not verify over the signed tcbInfo bytes",
    ]);
    const outdated = dcapQvlCollateral("tdx_quote_outdated_collateral.json");
    const { signedText, signatureHex } = outdated.tcbInfo as {
      signedText: string;
      signatureHex: string;
    };
    expect(
      problemsOf({
        ...outdated,
        tcbInfo: { signedText: signedText.replace("UpToDate", "UpToDatf"), signatureHex },
      }),
    ).toEqual(["TCB info 0: signature does not verify over the signed tcbInfo bytes"]);
  });

  it("verifies the bytes as served, not a re-serialization", () => {
    const body = text("go-tdx-guest/sample_tcbInfo_response");
    const pretty = JSON.stringify(JSON.parse(body) as unknown, null, 2);
    expect(problemsOf({ ...goTdxGuestCollateral(), tcbInfo: pretty })).toEqual([
      "TCB info 0: signature does not verify over the signed tcbInfo bytes",
    ]);
    // Outside the signed member, whitespace is not signed and does not matter.
    const spaced = ` { "signature" : ${JSON.stringify((JSON.parse(body) as { signature: string }).signature)} , "tcbInfo" :${body.slice(11, body.indexOf(',"signature"'))} }\n`;
    expect(
      problemsOf({ ...goTdxGuestCollateral(), tcbInfo: spaced }, { now: GO_TDX_GUEST_TIME }),
    ).toEqual([]);
  });

  it("refuses bodies two JSON parsers could read differently", () => {
    const body = text("go-tdx-guest/sample_qeIdentity_response");
    const identity = body.slice(body.indexOf(":") + 1, body.indexOf(',"signature"'));
    expect(
      problemsOf({
        ...goTdxGuestCollateral(),
        qeIdentity: `{"enclaveIdentity":${identity},${body.slice(1)}`,
      }),
    ).toEqual(['QE identity: enclaveIdentity: duplicate member "enclaveIdentity"']);
    expect(
      problemsOf({
        ...goTdxGuestCollateral(),
        qeIdentity: body.replace('"isvprodid":2', '"isvprodid":2,"isvprodid":3'),
      }),
    ).toEqual(['QE identity: enclaveIdentity: duplicate member "isvprodid"']);
    expect(
      problemsOf({ ...goTdxGuestCollateral(), qeIdentity: `${body.slice(0, -1)},"extra":1}` }),
    ).toEqual([
      'QE identity: enclaveIdentity: the body must hold exactly "enclaveIdentity" and "signature", found ["enclaveIdentity","extra","signature"]',
    ]);
    expect(problemsOf({ ...goTdxGuestCollateral(), qeIdentity: `${body}x` })).toEqual([
      `QE identity: enclaveIdentity: text after the JSON object at ${body.length}`,
    ]);
  });

  it("refuses documents of the wrong kind", () => {
    const go = goTdxGuestCollateral();
    expect(problemsOf({ ...go, tcbInfo: go.qeIdentity })).toEqual([
      'TCB info 0: tcbInfo: the body must hold exactly "tcbInfo" and "signature", found ["enclaveIdentity","signature"]',
    ]);
    expect(problemsOf({ ...go, qeIdentityIssuerChain: go.pckCrlIssuerChain })).toEqual([
      'QE identity issuer chain: "Intel SGX PCK Platform CA" is a CA certificate',
    ]);
    expect(problemsOf({ ...go, pckCrl: go.rootCaCrl })).toEqual([
      "PCK CRL 0: not signed by a PCK CA of the PCK CRL issuer chain",
    ]);
  });

  it("reports every stale part at a late clock", () => {
    expect(problemsOf(goTdxGuestCollateral(), { now: Date.parse("2024-05-01T00:00:00Z") })).toEqual(
      [
        "TCB info for FMSPC 50806f000000: expired at 2023-07-18T08:42:58.000Z (nextUpdate)",
        "QE identity: expired at 2023-07-08T07:24:59.000Z (nextUpdate)",
        "root CA CRL: expired at 2024-04-02T10:22:51.000Z (nextUpdate)",
        "PCK CRL 0: expired at 2023-07-08T07:27:52.000Z (nextUpdate)",
      ],
    );
    const load = loadTdxCollateral(goTdxGuestCollateral());
    if (!load.ok) throw new Error(load.problems.join("; "));
    expect(findStaleCollateral(load.collateral, Date.parse("2025-06-01T00:00:00Z"))).toContain(
      'collateral signing certificate: "Intel SGX TCB Signing" expired at 2025-05-21T10:50:10.000Z',
    );
    expect(findStaleCollateral(load.collateral, GO_TDX_GUEST_TIME)).toEqual([]);
  });

  it("refuses Intel's collateral against another root", async () => {
    const { rootPem } = await tdxTestPki();
    expect(problemsOf(dcapQvlCollateral("tdx_quote_collateral.json"), { root: rootPem })).toEqual([
      "root CA CRL: not signed by the trusted root",
    ]);
  });
});

describe("loadTdxCollateral on the synthetic Intel-QVL-style PKI (teekit)", () => {
  const synthetic: TdxCollateralSources = {
    tcbInfo: text("teekit-synthetic/tcbInfo.json"),
    tcbInfoIssuerChain: text("teekit-synthetic/tcbSignChain.pem"),
    qeIdentity: text("teekit-synthetic/qeIdentity.json"),
    qeIdentityIssuerChain: text("teekit-synthetic/tcbSignChain.pem"),
    pckCrl: readTdxVector("teekit-synthetic/intermediateCaCrl.der"),
    pckCrlIssuerChain: text("teekit-synthetic/pckSignChain.pem"),
    rootCaCrl: readTdxVector("teekit-synthetic/rootCaCrl.der"),
  };
  const syntheticRoot = text("teekit-synthetic/trustedRootCaCert.pem");

  it("verifies against its own root when that root is configured", () => {
    const load = loadTdxCollateral(synthetic, {
      root: syntheticRoot,
      now: Date.parse("2026-01-01T00:00:00Z"),
    });
    if (!load.ok) throw new Error(load.problems.join("; "));
    expect([...load.collateral.tcbInfos.keys()]).toEqual(["ed742af8adf5"]);
  });

  it("is refused against the pinned Intel root, though its names are Intel's", () => {
    expect(problemsOf(synthetic)).toEqual(["root CA CRL: not signed by the trusted root"]);
    expect(
      problemsOf({
        ...dcapQvlCollateral("tdx_quote_collateral.json"),
        tcbInfoIssuerChain: synthetic.tcbInfoIssuerChain,
      }),
    ).toEqual(["TCB info issuer chain: holds a root other than the trusted root"]);
  });
});
