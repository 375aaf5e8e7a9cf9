import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePemCertificates } from "../../../../../src/claims/evidence/tdx/pem-certificates.js";
import {
  MAX_TDX_QUOTE_BYTES,
  parseTdxQuote,
} from "../../../../../src/claims/evidence/tdx/tdx-quote.js";
import { readTdxVector } from "./tdx-vectors.js";

const V4 = readTdxVector("dcap-qvl/tdx_quote");
const V5 = readTdxVector("dcap-qvl/tdx_quote_outdated");

function edited(quote: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(quote);
  edit(copy);
  return copy;
}

function problemOf(bytes: Uint8Array): string {
  const parsed = parseTdxQuote(bytes);
  return parsed.ok ? "parsed" : parsed.problem;
}

describe("parseTdxQuote", () => {
  it("reads a v4 quote's layout", () => {
    const parsed = parseTdxQuote(V4);
    if (!parsed.ok) throw new Error(parsed.problem);
    const { quote } = parsed;
    expect(quote.version).toBe(4);
    expect(quote.report.bodyType).toBe(2);
    expect(quote.signedBytes).toEqual(V4.subarray(0, 48 + 584));
    expect(quote.report.teeTcbSvn2).toBeUndefined();
    expect(quote.qeAuthData).toHaveLength(32);
    expect(quote.pckChain).toHaveLength(3);
    expect(quote.trailingBytes).toBe(70);
  });

  it("reads a v5 quote with a TDX 1.5 body", () => {
    const parsed = parseTdxQuote(V5);
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(parsed.quote.report.bodyType).toBe(3);
    expect(parsed.quote.signedBytes).toEqual(V5.subarray(0, 48 + 6 + 648));
    expect(parsed.quote.report.teeTcbSvn2?.toString("hex")).toBe(
      "0d010300000000000000000000000000",
    );
    expect(parsed.quote.trailingBytes).toBe(0);
  });

  it("counts go-tdx-guest's trailing text as unsigned trailing bytes", () => {
    const parsed = parseTdxQuote(readTdxVector("go-tdx-guest/tdx_prod_quote_SPR_E4.dat"));
    expect(parsed.ok && parsed.quote.trailingBytes).toBe(39);
  });

  it("does not alias the caller's buffer", () => {
    const copy = Buffer.from(V4);
    const parsed = parseTdxQuote(copy);
    copy.fill(0);
    expect(parsed.ok && parsed.quote.report.mrTd.toString("hex")).toBe(
      "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
    );
  });

  it.each([
    [
      "version 6",
      edited(V4, (q) => q.writeUInt16LE(6, 0)),
      "quote: version 6 is not supported (4 and 5 are)",
    ],
    [
      "ECDSA P-384 attestation keys",
      edited(V4, (q) => q.writeUInt16LE(3, 2)),
      "quote: attestation key type 3 is not supported (2 = ECDSA-256 with P-256 is)",
    ],
    [
      "SGX quotes",
      edited(V4, (q) => q.writeUInt32LE(0, 4)),
      "quote: TEE type 0x00 is SGX, not TDX",
    ],
    [
      "other TEEs",
      edited(V4, (q) => q.writeUInt32LE(0x7f, 4)),
      "quote: TEE type 0x7f is not TDX (0x81)",
    ],
    [
      "a v5 body size that does not fit its type",
      edited(V5, (q) => q.writeUInt32LE(584, 50)),
      "quote: body size 584 does not match body type 3 (648 bytes)",
    ],
    [
      "a v5 body of an unknown type",
      edited(V5, (q) => q.writeUInt16LE(4, 48)),
      "quote: body type 4 is not a TD report (2 or 3)",
    ],
    [
      "a signature data length past the signature data",
      edited(V4, (q) => q.writeUInt32LE(4301, 632)),
      "quote: signatureData: 1 bytes left over after its last field",
    ],
    [
      "a signature data length past the end",
      edited(V4, (q) => q.writeUInt32LE(0xffffffff, 632)),
      "quote: signatureData: needs 4294967295 bytes at offset 636, 4370 left",
    ],
    [
      "certification data other than the QE report's",
      edited(V4, (q) => q.writeUInt16LE(5, 764)),
      "quote: certification data type 5 is not supported (6 = QE report certification data is)",
    ],
    [
      "a QE certification size past the signature data",
      edited(V4, (q) => q.writeUInt32LE(4167, 766)),
      "quote: signatureData.certificationData: needs 4167 bytes at offset 134, 4166 left",
    ],
    [
      "a QE auth data size past its container",
      edited(V4, (q) => q.writeUInt16LE(5000, 1218)),
      "quote: qeAuthData: needs 5000 bytes at offset 450, 3716 left",
    ],
    [
      "PCK certification data other than a PEM chain",
      edited(V4, (q) => q.writeUInt16LE(3, 1252)),
      "quote: PCK certification data type 3 is not supported (5 = PEM PCK certificate chain is)",
    ],
    [
      "a PCK chain shorter than its container",
      edited(V4, (q) => q.writeUInt32LE(3677, 1254)),
      "quote: QE report certification data: 1 bytes left over after its last field",
    ],
    [
      "inputs above the bound",
      Buffer.alloc(MAX_TDX_QUOTE_BYTES + 1),
      `quote is ${MAX_TDX_QUOTE_BYTES + 1} bytes, more than the ${MAX_TDX_QUOTE_BYTES} allowed`,
    ],
  ])("refuses %s", (_name, bytes, problem) => {
    expect(problemOf(bytes)).toBe(problem);
  });

  it("never throws on random input or random edits", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expect(parseTdxQuote(bytes).ok).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.nat(V5.length - 1), fc.integer({ min: 0, max: 255 }), (offset, value) => {
        const copy = Buffer.from(V5);
        copy[offset] = value;
        parseTdxQuote(copy);
      }),
      { numRuns: 500 },
    );
  });
});

describe("parsePemCertificates", () => {
  const chain = readTdxVector("go-tdx-guest/pckcrl_issuer_chain.pem").toString("latin1");
  const [first = ""] =
    chain.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

  it("reads CERTIFICATE blocks separated by whitespace, and a C string's NULs", () => {
    const bytes = Buffer.concat([Buffer.from(`\n${chain}\n\n`, "latin1"), Buffer.from([0, 0])]);
    const parsed = parsePemCertificates(bytes, "chain", 3);
    expect(parsed.ok && parsed.certificates.length).toBe(2);
  });

  it.each([
    [
      "text between blocks",
      `${first}\nhello\n${first}`,
      `chain: expected a PEM CERTIFICATE block at character ${first.length + 1}`,
    ],
    [
      "other block types",
      first.replaceAll("CERTIFICATE", "X509 CRL"),
      "chain: expected a PEM CERTIFICATE block at character 0",
    ],
    [
      "more certificates than allowed",
      `${first}\n${first}\n${first}\n${first}`,
      "chain: more than 3 certificates",
    ],
    ["nothing", " \n", "chain: no certificate"],
    ["base64 that is not", first.replace("MIIC", "MII="), "chain: certificate 0 is not base64"],
  ])("refuses %s", (_name, text, problem) => {
    expect(parsePemCertificates(text, "chain", 3)).toEqual({ ok: false, problem });
  });

  it("refuses bytes that are not ASCII text", () => {
    expect(parsePemCertificates(Buffer.from([0x30, 0x82, 0x02]), "chain", 3)).toEqual({
      ok: false,
      problem: "chain: not PEM text",
    });
  });
});
