import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { EvidenceOutcome } from "../../../../../src/claims/evidence/evidence.js";
import { loadTdxCollateral } from "../../../../../src/claims/evidence/tdx/tdx-collateral.js";
import { createTdxVerifier } from "../../../../../src/claims/evidence/tdx/tdx-verifier.js";
import {
  DEFAULT_MRTD,
  createTdxTestPki,
  makeTdxCollateralSources,
  makeTdxQuote,
  tdxTestPki,
  type TdxCollateralSpec,
  type TdxQuoteSpec,
} from "../../../../support/evidence/tdx-factory.js";

async function verifyMade(
  spec: TdxQuoteSpec = {},
  collateral?: TdxCollateralSpec,
): Promise<EvidenceOutcome> {
  const pki = spec.pki ?? (await tdxTestPki());
  const now = Date.now();
  let verifier = createTdxVerifier({ root: pki.rootPem });
  if (collateral !== undefined) {
    const load = loadTdxCollateral(await makeTdxCollateralSources({ pki, ...collateral }), {
      root: pki.rootPem,
      now,
    });
    if (!load.ok) throw new Error(load.problems.join("; "));
    verifier = createTdxVerifier({ root: pki.rootPem, collateral: load.collateral });
  }
  return verifier.verify({ evidence: await makeTdxQuote({ pki, ...spec }), certs: [] }, now);
}

describe("the TDX test PKI and makeTdxQuote", () => {
  it("makes a v4 quote the verifier accepts under the test root, bound to the given report data", async () => {
    const reportData = createHash("sha512").update("client key").digest();
    const outcome = await verifyMade({ reportData });
    if (!outcome.ok) throw new Error(outcome.problem);
    expect(outcome.evidence).toMatchObject({
      platform: "tdx",
      measurement: DEFAULT_MRTD,
      debug: false,
      tcbStatus: "unknown",
      reportData,
    });
    expect(outcome.evidence.claims).toMatchObject({
      version: 4,
      bodyType: 2,
      fmspc: "7e57fa000000",
      tdAttributes: "0000001000000000",
      qeVendorId: "939a7233f79c4ca9940a0db3957f0607",
    });
  });

  it("sets the measurement and the debug bit as asked", async () => {
    const mrtd = "ab".repeat(48);
    const outcome = await verifyMade({ mrtd, debug: true });
    expect(outcome.ok && [outcome.evidence.measurement, outcome.evidence.debug]).toEqual([
      mrtd,
      true,
    ]);
    const claims = outcome.ok ? outcome.evidence.claims : {};
    expect(claims["tdAttributes"]).toBe("0100001000000000");
  });

  it("makes v5 quotes with TDX 1.0 and 1.5 bodies", async () => {
    const v5 = await verifyMade({ version: 5 });
    expect(v5.ok && v5.evidence.claims["bodyType"]).toBe(2);
    const tdx15 = await verifyMade({ version: 5, bodyType: 3, mrServiceTd: "cd".repeat(48) });
    expect(tdx15.ok && tdx15.evidence.claims).toMatchObject({
      version: 5,
      bodyType: 3,
      mrservicetd: "cd".repeat(48),
      teeTcbSvn2: "03010300000000000000000000000000",
    });
  });

  it("is refused by the pinned Intel root", async () => {
    const outcome = await createTdxVerifier().verify(
      { evidence: await makeTdxQuote(), certs: [] },
      Date.now(),
    );
    expect(outcome).toEqual({
      ok: false,
      problem: "PCK certificate chain: ends in a root other than the trusted root",
    });
  });

  it("is refused under an unrelated test root", async () => {
    const other = await createTdxTestPki();
    const outcome = await createTdxVerifier({ root: other.rootPem }).verify(
      { evidence: await makeTdxQuote(), certs: [] },
      Date.now(),
    );
    expect(outcome).toEqual({
      ok: false,
      problem: "PCK certificate chain: ends in a root other than the trusted root",
    });
  });

  it("pins Intel's TD QE even without collateral: a debug or foreign QE is refused", async () => {
    expect(await verifyMade({ qe: { attributes: "13000000000000000000000000000000" } })).toEqual({
      ok: false,
      problem: "QE report: attributes do not match the TD QE identity",
    });
    expect(await verifyMade({ qe: { mrSigner: "00".repeat(32) } })).toEqual({
      ok: false,
      problem: "QE report: MRSIGNER is not the TD QE identity's",
    });
    expect(await verifyMade({ qe: { isvProdId: 1 } })).toEqual({
      ok: false,
      problem: "QE report: ISVPRODID 1 is not the TD QE identity's (2)",
    });
  });
});

describe("makeTdxCollateralSources", () => {
  it("makes collateral under which the default quote is UpToDate", async () => {
    const outcome = await verifyMade({}, {});
    expect(
      outcome.ok && [outcome.evidence.tcbStatus, outcome.evidence.claims["advisoryIds"]],
    ).toEqual(["UpToDate", []]);
  });

  it("reports the level a platform reaches, with its advisories", async () => {
    const outcome = await verifyMade(
      { teeTcbSvn: "03010200000000000000000000000000" },
      {
        tcbLevels: [
          { tdxTcbComponents: [3, 1, 3], status: "UpToDate" },
          { tdxTcbComponents: [3, 1, 2], status: "OutOfDate", advisoryIds: ["INTEL-SA-00837"] },
        ],
      },
    );
    expect(
      outcome.ok && [outcome.evidence.tcbStatus, outcome.evidence.claims["advisoryIds"]],
    ).toEqual(["OutOfDate", ["INTEL-SA-00837"]]);
  });

  it("refuses a revoked PCK certificate; a revoked PCK CA fails the load", async () => {
    const pki = await tdxTestPki();
    const pckSerial = pki.pck.certificate.serialNumber;
    expect(await verifyMade({}, { revokedSerials: [pckSerial] })).toEqual({
      ok: false,
      problem: "PCK certificate is revoked (PCK CRL)",
    });
    // A revoked PCK CA already fails the load: its CRL cannot be trusted either.
    const sources = await makeTdxCollateralSources({
      revokedCaSerials: [pki.platformCa.certificate.serialNumber],
    });
    expect(loadTdxCollateral(sources, { root: pki.rootPem })).toEqual({
      ok: false,
      problems: [
        'PCK CRL issuer chain: "Intel SGX PCK Platform CA" is revoked by the root CA CRL',
        "PCK CRL 0: not signed by a PCK CA of the PCK CRL issuer chain",
      ],
    });
  });

  it("refuses a QE the collateral's identity does not know", async () => {
    expect(
      await verifyMade({ qe: { isvSvn: 2 } }, { qeLevels: [{ isvSvn: 4, status: "UpToDate" }] }),
    ).toMatchObject({
      ok: true,
      evidence: { tcbStatus: "NoMatchingTcbLevel" },
    });
  });
});
