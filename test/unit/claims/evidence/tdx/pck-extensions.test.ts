import { describe, expect, it } from "vitest";
import { readPckPlatform } from "../../../../../src/claims/evidence/tdx/pck-extensions.js";
import { parseTdxQuote } from "../../../../../src/claims/evidence/tdx/tdx-quote.js";
import { DEFAULT_PCK_TCB, createTdxTestPki } from "../../../../support/evidence/tdx-factory.js";
import { readTdxVector } from "./tdx-vectors.js";

function pckOf(file: string): Buffer {
  const parsed = parseTdxQuote(readTdxVector(file));
  if (!parsed.ok || parsed.quote.pckChain[0] === undefined) throw new Error(`no PCK in ${file}`);
  return parsed.quote.pckChain[0];
}

describe("readPckPlatform", () => {
  it("reads the SGX extension of a real PCK certificate", () => {
    const read = readPckPlatform(pckOf("dcap-qvl/tdx_quote"));
    if (!read.ok) throw new Error(read.problem);
    expect({
      fmspc: read.platform.fmspc.toString("hex"),
      pceId: read.platform.pceId.toString("hex"),
      sgxTcbComponents: read.platform.sgxTcbComponents,
      pceSvn: read.platform.pceSvn,
      cpuSvn: read.platform.cpuSvn.toString("hex"),
    }).toEqual({
      fmspc: "b0c06f000000",
      pceId: "0000",
      sgxTcbComponents: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
      pceSvn: 11,
      cpuSvn: "03030202040100050000000000000000",
    });
  });

  it("refuses a certificate without the extension", () => {
    const parsed = parseTdxQuote(readTdxVector("dcap-qvl/tdx_quote"));
    const root = parsed.ok ? parsed.quote.pckChain[2] : undefined;
    expect(root && readPckPlatform(root)).toEqual({
      ok: false,
      problem: "PCK certificate: no single SGX extension",
    });
  });

  it.each([
    [
      "a component above 255",
      { ...DEFAULT_PCK_TCB, sgxTcbComponents: [300, ...DEFAULT_PCK_TCB.sgxTcbComponents.slice(1)] },
      "PCK SGX extension: TCB: component 1 SVN 300 exceeds 255",
    ],
    [
      "an FMSPC of the wrong size",
      { ...DEFAULT_PCK_TCB, fmspc: "00" },
      "PCK SGX extension: FMSPC: 1 bytes, expected 6",
    ],
  ])("refuses %s", async (_name, pckTcb, problem) => {
    const pki = await createTdxTestPki({ pckTcb });
    expect(readPckPlatform(Buffer.from(pki.pck.certificate.rawData))).toEqual({
      ok: false,
      problem,
    });
  });
});
