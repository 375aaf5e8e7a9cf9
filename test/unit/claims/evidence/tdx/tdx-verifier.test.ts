import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EvidenceOutcome } from "../../../../../src/claims/evidence/evidence.js";
import {
  loadTdxCollateral,
  type TdxCollateral,
  type TdxCollateralSources,
} from "../../../../../src/claims/evidence/tdx/tdx-collateral.js";
import { createTdxVerifier } from "../../../../../src/claims/evidence/tdx/tdx-verifier.js";
import { makeTdxQuote, tdxTestPki } from "../../../../support/evidence/tdx-factory.js";
import {
  DCAP_QVL_OUTDATED_TIME,
  DCAP_QVL_TIME,
  GO_TDX_GUEST_TIME,
  REAL_QUOTES,
  TDX_VECTORS,
  dcapQvlCollateral,
  flipBit,
  goTdxGuestCollateral,
  readTdxVector,
} from "./tdx-vectors.js";

const pinned = createTdxVerifier();

function verify(evidence: Buffer, now: number, verifier = pinned): Promise<EvidenceOutcome> {
  return verifier.verify({ evidence, certs: [] }, now);
}

async function expectProblem(outcome: Promise<EvidenceOutcome>, problem: string): Promise<void> {
  expect(await outcome).toEqual({ ok: false, problem });
}

function loaded(sources: TdxCollateralSources, now: number): TdxCollateral {
  const load = loadTdxCollateral(sources, { now });
  if (!load.ok) throw new Error(load.problems.join("; "));
  return load.collateral;
}

/** dcap-qvl's v4 quote and its offsets (header 48, TD report 584, then signature data). */
const DCAP_QUOTE = readTdxVector("dcap-qvl/tdx_quote");
const OFFSET = {
  tdAttributes: 48 + 120,
  mrTd: 48 + 136,
  reportData: 48 + 520,
  quoteSignature: 636,
  attestationKey: 700,
  qeReport: 770,
  qeReportSignature: 1154,
  qeAuthData: 1220,
  pckChain: 1258,
  /** Where the signature data ends; dcap-qvl's file pads 70 zero bytes after it. */
  end: 4936,
};

describe("createTdxVerifier on real quotes, pinned Intel root, no collateral", () => {
  it("reads the vectors in place from the shared directory", () => {
    const repo = fileURLToPath(new URL("../../../../../", import.meta.url));
    expect(fileURLToPath(TDX_VECTORS)).toBe(join(dirname(repo), "shared/vectors/tdx/"));
  });

  it.each(REAL_QUOTES)(
    "verifies $file (v$version, body type $bodyType)",
    async ({ file, now, version, bodyType, fmspc, isDebug }) => {
      const outcome = await verify(readTdxVector(file), now);
      if (!outcome.ok) throw new Error(outcome.problem);
      const { evidence } = outcome;
      expect(evidence.platform).toBe("tdx");
      expect(evidence.debug).toBe(isDebug);
      expect(evidence.tcbStatus).toBe("unknown");
      expect(evidence.svn).toBeUndefined();
      expect(evidence.nonce).toBeUndefined();
      expect(evidence.producedAt).toBeUndefined();
      expect(evidence.reportData).toHaveLength(64);
      expect(evidence.measurement).toBe(evidence.claims["mrtd"]);
      expect(evidence.claims).toMatchObject({ version, bodyType, fmspc, tcbStatus: "unknown" });
    },
  );

  it("gives the claims Trustee's own parser expects for its DEBUG TD quote", async () => {
    const expected = JSON.parse(
      readTdxVector("trustee/parse_tdx_claims_expected.json").toString("utf8"),
    ) as { quote: { body: Record<string, string>; header: Record<string, string> } };
    const { body, header } = expected.quote;
    const outcome = await verify(readTdxVector("trustee/tdx_quote_4.dat"), GO_TDX_GUEST_TIME);
    if (!outcome.ok) throw new Error(outcome.problem);
    expect(outcome.evidence.debug).toBe(true);
    expect(outcome.evidence.reportData.toString("hex")).toBe(body["report_data"]);
    expect(outcome.evidence.claims).toEqual({
      version: 4,
      bodyType: 2,
      mrtd: body["mr_td"],
      rtmr0: body["rtmr_0"],
      rtmr1: body["rtmr_1"],
      rtmr2: body["rtmr_2"],
      rtmr3: body["rtmr_3"],
      mrconfigid: body["mr_config_id"],
      mrowner: body["mr_owner"],
      mrownerconfig: body["mr_owner_config"],
      mrseam: body["mr_seam"],
      mrsignerseam: body["mrsigner_seam"],
      seamAttributes: body["seam_attributes"],
      tdAttributes: body["td_attributes"],
      xfam: body["xfam"],
      teeTcbSvn: body["tcb_svn"],
      fmspc: "50806f000000",
      tcbStatus: "unknown",
      advisoryIds: [],
      qeVendorId: header["vendor_id"],
    });
  });

  it("refuses quotes that are not TDX DCAP v4/v5 with a PEM chain", async () => {
    await expectProblem(
      verify(readTdxVector("dcap-qvl/sgx_quote"), DCAP_QVL_TIME),
      "quote: version 3 is an SGX quote format, not TDX",
    );
    // The synthetic Intel-QVL quote carries DER, not the PEM chain the format requires.
    await expectProblem(
      verify(readTdxVector("teekit-synthetic/quote.dat"), DCAP_QVL_TIME),
      "quote: PCK certificate chain: not PEM text",
    );
    const sgxBody = Buffer.from(readTdxVector("dcap-qvl/tdx_quote_outdated"));
    sgxBody.writeUInt16LE(1, 48);
    await expectProblem(
      verify(sgxBody, DCAP_QVL_OUTDATED_TIME),
      "quote: body type 1 is an SGX enclave report, not a TD report",
    );
  });

  it("refuses certificates sent beside the quote, and a clock that is not a time", async () => {
    expect(
      await pinned.verify({ evidence: DCAP_QUOTE, certs: [Buffer.alloc(1)] }, DCAP_QVL_TIME),
    ).toEqual({
      ok: false,
      problem: "a TDX quote carries its certificates inside: certs must be empty",
    });
    await expectProblem(verify(DCAP_QUOTE, Number.NaN), "now is not a time");
  });

  it("checks the PCK chain's validity at the injected clock", async () => {
    const spr = readTdxVector("go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
    await expectProblem(
      verify(spr, Date.parse("2030-01-01T00:00:00Z")),
      'PCK certificate chain: "Intel SGX PCK Certificate" expired at 2029-09-20T13:20:31.000Z',
    );
    await expectProblem(
      verify(spr, Date.parse("2022-01-01T00:00:00Z")),
      'PCK certificate chain: "Intel SGX PCK Certificate" is not valid before 2022-09-20T13:20:31.000Z',
    );
  });
});

describe("createTdxVerifier refuses tampered copies of a real quote", () => {
  const QUOTE_SIGNATURE = "quote signature does not verify with the attestation key";
  const cases: readonly { name: string; offset: number; problem: string }[] = [
    { name: "MRTD", offset: OFFSET.mrTd + 7, problem: QUOTE_SIGNATURE },
    { name: "REPORTDATA", offset: OFFSET.reportData, problem: QUOTE_SIGNATURE },
    { name: "TDATTRIBUTES bit 0 (debug)", offset: OFFSET.tdAttributes, problem: QUOTE_SIGNATURE },
    { name: "the header's user data", offset: 30, problem: QUOTE_SIGNATURE },
    { name: "the quote signature", offset: OFFSET.quoteSignature + 5, problem: QUOTE_SIGNATURE },
    {
      name: "the attestation key",
      offset: OFFSET.attestationKey + 3,
      problem: "QE report data does not bind the attestation key and QE auth data",
    },
    {
      name: "the QE report",
      offset: OFFSET.qeReport + 256,
      problem: "QE report signature does not verify with the PCK certificate's key",
    },
    {
      name: "the QE report signature",
      offset: OFFSET.qeReportSignature + 40,
      problem: "QE report signature does not verify with the PCK certificate's key",
    },
    {
      name: "the QE auth data",
      offset: OFFSET.qeAuthData + 1,
      problem: "QE report data does not bind the attestation key and QE auth data",
    },
  ];

  it("verifies the untouched quote", async () => {
    expect((await verify(DCAP_QUOTE, DCAP_QVL_TIME)).ok).toBe(true);
  });

  it.each(cases)("a flipped bit in $name", async ({ offset, problem }) => {
    await expectProblem(verify(flipBit(DCAP_QUOTE, offset), DCAP_QVL_TIME), problem);
  });

  it("a flipped bit inside the PCK certificate's or its CA's signed part", async () => {
    await expectProblem(
      verify(flipBit(DCAP_QUOTE, OFFSET.pckChain + 400), DCAP_QVL_TIME),
      'PCK certificate chain: "Intel SGX PCK Certificate" is not issued by "Intel SGX PCK Platform CA"',
    );
    await expectProblem(
      verify(flipBit(DCAP_QUOTE, OFFSET.pckChain + 2000), DCAP_QVL_TIME),
      'PCK certificate chain: "Intel SGX PCK Platform CA" is not issued by the trusted root',
    );
  });

  it("a chain to another root, either way round", async () => {
    await expectProblem(
      verify(await makeTdxQuote(), Date.now()),
      "PCK certificate chain: ends in a root other than the trusted root",
    );
    const testRoot = createTdxVerifier({ root: (await tdxTestPki()).rootPem });
    await expectProblem(
      verify(DCAP_QUOTE, DCAP_QVL_TIME, testRoot),
      "PCK certificate chain: ends in a root other than the trusted root",
    );
  });

  it("every truncation inside the signed structure", async () => {
    for (let length = 0; length < OFFSET.end; length++) {
      const outcome = await verify(DCAP_QUOTE.subarray(0, length), DCAP_QVL_TIME);
      expect(outcome.ok, `truncated to ${length}`).toBe(false);
    }
    await expectProblem(
      verify(DCAP_QUOTE.subarray(0, 0), DCAP_QVL_TIME),
      "quote: header.version: needs 2 bytes at offset 0, 0 left",
    );
    await expectProblem(
      verify(DCAP_QUOTE.subarray(0, 600), DCAP_QVL_TIME),
      "quote: body: needs 584 bytes at offset 48, 552 left",
    );
    await expectProblem(
      verify(DCAP_QUOTE.subarray(0, 2000), DCAP_QVL_TIME),
      "quote: signatureData: needs 4300 bytes at offset 636, 1364 left",
    );
  });

  it("ignores the unsigned padding after the signature data", async () => {
    const padded = Buffer.concat([DCAP_QUOTE.subarray(0, OFFSET.end), Buffer.from("junk")]);
    const [a, b] = await Promise.all([
      verify(DCAP_QUOTE, DCAP_QVL_TIME),
      verify(padded, DCAP_QVL_TIME),
    ]);
    expect(b).toEqual(a);
  });

  it("never throws, and any mutation is refused or verifies to the same evidence", async () => {
    const original = await verify(DCAP_QUOTE, DCAP_QVL_TIME);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(DCAP_QUOTE.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (edits) => {
          const mutated = Buffer.from(DCAP_QUOTE);
          for (const [offset, xor] of edits) mutated[offset] = (mutated[offset] ?? 0) ^ xor;
          const outcome = await verify(mutated, DCAP_QVL_TIME);
          if (outcome.ok) expect(outcome).toEqual(original);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws on random bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 6000 }), async (bytes) => {
        const outcome = await verify(Buffer.from(bytes), DCAP_QVL_TIME);
        expect(outcome.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 5000 }), async (tail) => {
        // A valid v4 header and TD report, then garbage: the signature data parser's turn.
        const bytes = Buffer.concat([DCAP_QUOTE.subarray(0, 632), Buffer.from(tail)]);
        expect((await verify(bytes, DCAP_QVL_TIME)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe("createTdxVerifier with real collateral", () => {
  it("gives dcap-qvl's quote UpToDate, with its exact claims", async () => {
    const collateral = loaded(dcapQvlCollateral("tdx_quote_collateral.json"), DCAP_QVL_TIME);
    const outcome = await verify(DCAP_QUOTE, DCAP_QVL_TIME, createTdxVerifier({ collateral }));
    if (!outcome.ok) throw new Error(outcome.problem);
    expect(outcome.evidence.tcbStatus).toBe("UpToDate");
    expect(outcome.evidence.measurement).toBe(
      "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
    );
    expect(outcome.evidence.debug).toBe(false);
    expect(outcome.evidence.reportData.toString("hex")).toBe(
      "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9" +
        "eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20",
    );
    const zero48 = "00".repeat(48);
    expect(outcome.evidence.claims).toEqual({
      version: 4,
      bodyType: 2,
      mrtd: "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
      rtmr0:
        "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0",
      rtmr1:
        "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378",
      rtmr2:
        "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132",
      rtmr3: zero48,
      mrconfigid: zero48,
      mrowner: zero48,
      mrownerconfig: zero48,
      mrseam:
        "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1",
      mrsignerseam: zero48,
      seamAttributes: "0000000000000000",
      tdAttributes: "0000001000000000",
      xfam: "e702060000000000",
      teeTcbSvn: "06010300000000000000000000000000",
      fmspc: "b0c06f000000",
      tcbStatus: "UpToDate",
      advisoryIds: [],
      qeVendorId: "939a7233f79c4ca9940a0db3957f0607",
    });
  });

  it("finds no TCB level for dcap-qvl's outdated v5 quote (its SEAMLDR ACM SVN 3 is below every level's 5)", async () => {
    const collateral = loaded(
      dcapQvlCollateral("tdx_quote_outdated_collateral.json"),
      DCAP_QVL_OUTDATED_TIME,
    );
    const outcome = await verify(
      readTdxVector("dcap-qvl/tdx_quote_outdated"),
      DCAP_QVL_OUTDATED_TIME,
      createTdxVerifier({ collateral }),
    );
    if (!outcome.ok) throw new Error(outcome.problem);
    expect(outcome.evidence.tcbStatus).toBe("NoMatchingTcbLevel");
    const zero48 = "00".repeat(48);
    expect(outcome.evidence.claims).toEqual({
      version: 5,
      bodyType: 3,
      mrtd: "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd",
      rtmr0: zero48,
      rtmr1: zero48,
      rtmr2: zero48,
      rtmr3: zero48,
      mrconfigid: zero48,
      mrowner: zero48,
      mrownerconfig: zero48,
      mrseam:
        "49b66faa451d19ebbdbe89371b8daf2b65aa3984ec90110343e9e2eec116af08850fa20e3b1aa9a874d77a65380ee7e6",
      mrsignerseam: zero48,
      seamAttributes: "0000000000000000",
      tdAttributes: "0000001000000000",
      xfam: "e718060000000000",
      teeTcbSvn: "07010300000000000000000000000000",
      teeTcbSvn2: "0d010300000000000000000000000000",
      mrservicetd: zero48,
      fmspc: "90c06f000000",
      tcbStatus: "NoMatchingTcbLevel",
      advisoryIds: [],
      qeVendorId: "939a7233f79c4ca9940a0db3957f0607",
    });
  });

  it("gives go-tdx-guest's v5 sample UpToDate with the 2026 collateral of the same FMSPC", async () => {
    const collateral = loaded(
      dcapQvlCollateral("tdx_quote_outdated_collateral.json"),
      DCAP_QVL_OUTDATED_TIME,
    );
    const outcome = await verify(
      readTdxVector("go-tdx-guest/quote_v5_sample.dat"),
      DCAP_QVL_OUTDATED_TIME,
      createTdxVerifier({ collateral }),
    );
    expect(outcome.ok && outcome.evidence.tcbStatus).toBe("UpToDate");
  });

  it("verifies go-tdx-guest's sample collateral; SPR_E4 (SGX components 3,3,2,2,2 below 5,5,2,2,3) matches no TCB level", async () => {
    const collateral = loaded(goTdxGuestCollateral(), GO_TDX_GUEST_TIME);
    const outcome = await verify(
      readTdxVector("go-tdx-guest/tdx_prod_quote_SPR_E4.dat"),
      GO_TDX_GUEST_TIME,
      createTdxVerifier({ collateral }),
    );
    if (!outcome.ok) throw new Error(outcome.problem);
    expect(outcome.evidence.tcbStatus).toBe("NoMatchingTcbLevel");
    expect(outcome.evidence.claims["tcbStatus"]).toBe("NoMatchingTcbLevel");
  });

  it("gives Trustee's DEBUG TD UpToDate under the same collateral: TCB status says nothing about debug", async () => {
    const collateral = loaded(goTdxGuestCollateral(), GO_TDX_GUEST_TIME);
    const outcome = await verify(
      readTdxVector("trustee/tdx_quote_4.dat"),
      GO_TDX_GUEST_TIME,
      createTdxVerifier({ collateral }),
    );
    expect(outcome.ok && [outcome.evidence.tcbStatus, outcome.evidence.debug]).toEqual([
      "UpToDate",
      true,
    ]);
  });

  it("refuses the quote once the collateral is stale", async () => {
    const collateral = loaded(dcapQvlCollateral("tdx_quote_collateral.json"), DCAP_QVL_TIME);
    const verifier = createTdxVerifier({ collateral });
    await expectProblem(
      verify(DCAP_QUOTE, Date.parse("2025-08-01T00:00:00Z"), verifier),
      "TCB info for FMSPC b0c06f000000: expired at 2025-07-19T10:16:03.000Z (nextUpdate)",
    );
    // Without collateral the same quote still verifies then (its TCB is just unknown).
    expect((await verify(DCAP_QUOTE, Date.parse("2025-08-01T00:00:00Z"))).ok).toBe(true);
  });

  it("refuses a platform the collateral has no TCB info for", async () => {
    const collateral = loaded(dcapQvlCollateral("tdx_quote_collateral.json"), DCAP_QVL_TIME);
    await expectProblem(
      verify(
        readTdxVector("trustee/tdx_quote_5.dat"),
        DCAP_QVL_TIME,
        createTdxVerifier({ collateral }),
      ),
      "collateral has no TCB info for FMSPC 90c06f000000",
    );
  });

  it("refuses collateral it did not load, or loaded for another root", async () => {
    const real = loaded(dcapQvlCollateral("tdx_quote_collateral.json"), DCAP_QVL_TIME);
    const lookAlike = { ...real };
    await expectProblem(
      verify(DCAP_QUOTE, DCAP_QVL_TIME, createTdxVerifier({ collateral: lookAlike })),
      "collateral was not made by loadTdxCollateral",
    );
    const testRoot = (await tdxTestPki()).rootPem;
    await expectProblem(
      verify(DCAP_QUOTE, DCAP_QVL_TIME, createTdxVerifier({ root: testRoot, collateral: real })),
      "collateral was verified against another root",
    );
  });

  it("refuses everything when the configured root is not a root", async () => {
    const verifier = createTdxVerifier({ root: "not a certificate" });
    await expectProblem(
      verify(DCAP_QUOTE, DCAP_QVL_TIME, verifier),
      "configured root: root: expected a PEM CERTIFICATE block at character 0",
    );
  });
});
