import type { EvidencePlatform } from "./evidence.js";

/** The JSON envelope evidence travels in (DESIGN.md "Raw hardware evidence"). */
export interface EvidenceEnvelope {
  readonly platform: EvidencePlatform;
  readonly evidence: Buffer;
  readonly certs: readonly Buffer[];
  readonly nonce: string | undefined;
}

const PLATFORMS: ReadonlySet<string> = new Set(["sev-snp", "tdx", "nitro"]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_EVIDENCE_BYTES = 64 * 1024;
const MAX_CERTS = 4;
const MAX_CERT_BYTES = 16 * 1024;

function decodeBase64(value: unknown, what: string, max: number): Buffer | string {
  if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value))
    return `${what} is not base64`;
  const bytes = Buffer.from(value, "base64");
  if (bytes.length === 0 || bytes.length > max)
    return `${what} is empty or larger than ${max} bytes`;
  return bytes;
}

/**
 * Reads an evidence envelope: `{"platform": "sev-snp" | "tdx" | "nitro", "evidence":
 * "<base64>", "certs": ["<base64 DER>", ...], "nonce": "<optional>"}`. Strict: unknown
 * keys, wrong types and oversized parts are refused with a reason.
 */
export function parseEnvelope(value: unknown): EvidenceEnvelope | string {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "the envelope is not a JSON object";
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!["platform", "evidence", "certs", "nonce"].includes(key))
      return `unknown envelope key "${key}"`;
  }
  const platform = fields["platform"];
  if (typeof platform !== "string" || !PLATFORMS.has(platform))
    return "platform must be sev-snp, tdx or nitro";
  const evidence = decodeBase64(fields["evidence"], "evidence", MAX_EVIDENCE_BYTES);
  if (typeof evidence === "string") return evidence;
  const rawCerts = fields["certs"] ?? [];
  if (!Array.isArray(rawCerts) || rawCerts.length > MAX_CERTS)
    return `certs must be a list of at most ${MAX_CERTS}`;
  const certs: Buffer[] = [];
  for (const [i, cert] of rawCerts.entries()) {
    const der = decodeBase64(cert, `certs[${i}]`, MAX_CERT_BYTES);
    if (typeof der === "string") return der;
    certs.push(der);
  }
  const nonce = fields["nonce"];
  if (nonce !== undefined && typeof nonce !== "string") return "nonce must be a string";
  return { platform: platform as EvidencePlatform, evidence, certs, nonce };
}

/** Reads the `x-tee-evidence` header: the envelope's JSON, base64url-encoded. */
export function parseEvidenceHeader(header: string): EvidenceEnvelope | string {
  if (!/^[A-Za-z0-9_-]+$/.test(header)) return "x-tee-evidence is not base64url";
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  } catch {
    return "x-tee-evidence does not hold JSON";
  }
  return parseEnvelope(json);
}
