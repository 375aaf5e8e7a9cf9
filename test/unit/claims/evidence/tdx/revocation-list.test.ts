import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  findStaleCrl,
  isCrlSignedBy,
  parseRevocationList,
} from "../../../../../src/claims/evidence/tdx/revocation-list.js";
import { readTdxVector } from "./tdx-vectors.js";

const PCK_CRL = readTdxVector("go-tdx-guest/pckcrl");
const platformCa = new X509Certificate(readTdxVector("go-tdx-guest/pckcrl_issuer_chain.pem"));
const root = new X509Certificate(readTdxVector("go-tdx-guest/trusted_root.pem"));

describe("parseRevocationList", () => {
  it("reads a real PCK CRL: dates, revoked serials, signature", () => {
    const parsed = parseRevocationList(PCK_CRL, "PCK CRL");
    if (!parsed.ok) throw new Error(parsed.problem);
    const { crl } = parsed;
    expect(new Date(crl.thisUpdate).toISOString()).toBe("2023-06-08T07:27:52.000Z");
    expect(new Date(crl.nextUpdate).toISOString()).toBe("2023-07-08T07:27:52.000Z");
    expect(crl.revokedSerials.size).toBe(44);
    expect(crl.revokedSerials.has("6fc34e5023e728923435d61aa4b83c618166ad35")).toBe(true);
    expect(isCrlSignedBy(crl, platformCa.publicKey)).toBe(true);
    expect(isCrlSignedBy(crl, root.publicKey)).toBe(false);
    expect(findStaleCrl(crl, Date.parse("2023-08-01T00:00:00Z"), "PCK CRL")).toBe(
      "PCK CRL: expired at 2023-07-08T07:27:52.000Z (nextUpdate)",
    );
    expect(findStaleCrl(crl, Date.parse("2023-06-01T00:00:00Z"), "PCK CRL")).toBe(
      "PCK CRL: not valid before 2023-06-08T07:27:52.000Z (thisUpdate)",
    );
  });

  it("reads PEM as well as DER", () => {
    const pem = `-----BEGIN X509 CRL-----\n${PCK_CRL.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END X509 CRL-----\n`;
    const parsed = parseRevocationList(pem, "PCK CRL");
    expect(parsed.ok && parsed.crl.revokedSerials.size).toBe(44);
  });

  it.each([
    ["truncated DER", PCK_CRL.subarray(0, 100), "PCK CRL: content runs past the end of data"],
    [
      "trailing bytes",
      Buffer.concat([PCK_CRL, Buffer.from([0])]),
      "PCK CRL: CertificateList: trailing data",
    ],
    ["text that is not PEM", "hello", "PCK CRL: not a PEM X509 CRL"],
  ])("refuses %s", (_name, source, problem) => {
    expect(parseRevocationList(source, "PCK CRL")).toEqual({ ok: false, problem });
  });
});
