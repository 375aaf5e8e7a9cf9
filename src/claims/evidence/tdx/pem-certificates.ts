/**
 * Strict reading of PEM certificate lists (the PCK chain inside a quote, the issuer
 * chains Intel's PCS sends in headers). Only `CERTIFICATE` blocks separated by
 * whitespace are accepted; anything else (other block types, text between blocks,
 * base64 that does not round-trip, DER with trailing bytes) is refused rather than
 * skipped, so what is verified is all there is. A quote's chain may end in NUL bytes:
 * Intel's quote generator writes a C string.
 */
import { X509Certificate } from "node:crypto";

const BLOCK =
  /-----BEGIN CERTIFICATE-----\r?\n((?:[A-Za-z0-9+/=]{1,76}\r?\n){1,200})-----END CERTIFICATE-----/y;
const SPACE = /[ \t\r\n]*/y;

/** DER certificates read from PEM, in order; or why the text is not such a list. */
export type PemCertificates =
  | { readonly ok: true; readonly certificates: readonly Buffer[] }
  | { readonly ok: false; readonly problem: string };

/**
 * Reads between 1 and `max` PEM certificates from `input` (text, or bytes that must be
 * ASCII). Each block must decode to exactly one DER certificate Node can parse.
 */
export function parsePemCertificates(
  input: Uint8Array | string,
  what: string,
  max: number,
): PemCertificates {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    let end = input.length;
    while (end > 0 && input[end - 1] === 0) end--;
    const body = input.subarray(0, end);
    if (body.some((byte) => byte > 0x7e || (byte < 0x20 && byte !== 0x0a && byte !== 0x0d))) {
      return { ok: false, problem: `${what}: not PEM text` };
    }
    text = Buffer.from(body).toString("latin1");
  }
  const certificates: Buffer[] = [];
  let offset = skipSpace(text, 0);
  while (offset < text.length) {
    if (certificates.length === max) {
      return { ok: false, problem: `${what}: more than ${max} certificates` };
    }
    BLOCK.lastIndex = offset;
    const match = BLOCK.exec(text);
    if (match === null) {
      return {
        ok: false,
        problem: `${what}: expected a PEM CERTIFICATE block at character ${offset}`,
      };
    }
    const base64 = (match[1] ?? "").replace(/\r?\n/g, "");
    const der = Buffer.from(base64, "base64");
    if (der.toString("base64") !== base64) {
      return { ok: false, problem: `${what}: certificate ${certificates.length} is not base64` };
    }
    const problem = checkDerCertificate(der);
    if (problem !== undefined) {
      return { ok: false, problem: `${what}: certificate ${certificates.length} ${problem}` };
    }
    certificates.push(der);
    offset = skipSpace(text, BLOCK.lastIndex);
  }
  if (certificates.length === 0) return { ok: false, problem: `${what}: no certificate` };
  return { ok: true, certificates };
}

function skipSpace(text: string, offset: number): number {
  SPACE.lastIndex = offset;
  SPACE.exec(text);
  return SPACE.lastIndex;
}

function checkDerCertificate(der: Buffer): string | undefined {
  try {
    // OpenSSL would parse a certificate followed by junk; insist the DER is exactly one.
    if (!new X509Certificate(der).raw.equals(der)) return "has bytes after its DER";
    return undefined;
  } catch {
    return "is not an X.509 certificate";
  }
}
