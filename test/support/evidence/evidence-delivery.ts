/**
 * How a workload delivers raw TEE evidence to verigate (DESIGN.md "Raw hardware
 * evidence"), written here independently of verigate's own code: the binding a
 * guest puts in its report data, the JSON envelope, the `x-tee-evidence` header,
 * and a nonce from POST /.well-known/verigate/nonce.
 */
import { createHash, X509Certificate } from "node:crypto";
import { expect } from "vitest";
import type { IssuedCertificate } from "../../../src/dev-pki/certificate-authority.js";
import type { GatewayHarness } from "../gateway-harness.js";
import { mtlsRequest } from "../mtls-client.js";

/** The envelope's platforms. */
export type Platform = "sev-snp" | "tdx" | "nitro";

/** What goes into an envelope, before base64. */
export interface EnvelopeParts {
  readonly platform: Platform;
  readonly evidence: Buffer;
  readonly certs?: readonly Buffer[];
  readonly nonce?: string;
}

/** The DER SubjectPublicKeyInfo of a client certificate: what evidence binds to. */
export function spkiOf(client: IssuedCertificate): Buffer {
  return new X509Certificate(client.certPem).publicKey.export({ type: "spki", format: "der" });
}

/** SHA-512(nonce bytes ‖ SHA-256(SPKI)): the 64 bytes a guest puts in its report data (Nitro: user data). */
export function bindingOf(nonce: string, spki: Buffer): Buffer {
  const keyDigest = createHash("sha256").update(spki).digest();
  return createHash("sha512").update(Buffer.from(nonce, "base64url")).update(keyDigest).digest();
}

/** The envelope as a JSON object (what POST /.well-known/verigate/attest takes). */
export function envelopeOf(parts: EnvelopeParts): Record<string, unknown> {
  return {
    platform: parts.platform,
    evidence: parts.evidence.toString("base64"),
    certs: (parts.certs ?? []).map((cert) => cert.toString("base64")),
    ...(parts.nonce === undefined ? {} : { nonce: parts.nonce }),
  };
}

/** The `x-tee-evidence` header: base64url of the envelope's JSON. */
export function evidenceHeader(parts: EnvelopeParts): Record<string, string> {
  return {
    "x-tee-evidence": Buffer.from(JSON.stringify(envelopeOf(parts)), "utf8").toString("base64url"),
  };
}

/** A fresh nonce from the harness's gateway, asked for over alice's mTLS connection. */
export async function newNonce(h: GatewayHarness): Promise<string> {
  const res = await mtlsRequest({
    port: h.port,
    pki: h.pki,
    as: h.pki.clients.alice,
    method: "POST",
    path: "/.well-known/verigate/nonce",
  });
  expect(res.status).toBe(200);
  const { nonce } = res.json<{ nonce: string }>();
  expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return nonce;
}

/** A copy of `bytes` with one bit flipped. */
export function flipBit(bytes: Buffer, offset: number, bit = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
  return copy;
}
