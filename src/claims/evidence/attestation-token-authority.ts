import { generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import type { ReasonCode } from "../../policy/reasons.js";
import type { TeeClaims } from "../claims.js";

const ISSUER = "verigate";
const AUDIENCE = "verigate-attestation";
const ALGORITHM = "ES256";
/** How long an exchanged attestation token lives. Short: the evidence behind it ages. */
export const ATTESTATION_TOKEN_SECONDS = 300;

export interface TokenRefusal {
  readonly reason: ReasonCode;
  readonly detail: string;
}

function thumbprintOf(certFingerprintHex: string): string {
  return Buffer.from(certFingerprintHex, "hex").toString("base64url");
}

/**
 * verigate's own attestation tokens: evidence posted to
 * POST /.well-known/verigate/attest (too large for a header) is verified once and
 * exchanged for a short-lived ES256 token, bound to the client certificate, that
 * carries the verified tee.* claims. Only verigate holds the key (made at start);
 * only verigate verifies the tokens, and only on a connection with that certificate.
 */
export class AttestationTokenAuthority {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  /** A new P-256 key, made at start and never written anywhere. */
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
  }

  /** A token for verified TEE claims, bound to the client certificate. `attestedAt`: the evidence's time (ms). */
  async issue(
    tee: TeeClaims,
    attestedAt: number,
    certFingerprintHex: string,
    now: number,
  ): Promise<string> {
    const iat = Math.floor(now / 1000);
    const { age: _age, boundToClientCert: _bound, ...facts } = tee;
    return new SignJWT({
      tee: facts,
      attested_at: attestedAt,
      cnf: { "x5t#S256": thumbprintOf(certFingerprintHex) },
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ATTESTATION_TOKEN_SECONDS)
      .setJti(randomUUID())
      .sign(this.#privateKey);
  }

  /** The TEE claims of one of verigate's tokens, presented on a connection with this certificate. */
  async verify(
    token: string,
    certFingerprintHex: string | undefined,
    now: number,
  ): Promise<TeeClaims | TokenRefusal> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ["exp", "iat"],
        currentDate: new Date(now),
      }));
    } catch (error: unknown) {
      if (error instanceof errors.JWTExpired)
        return { reason: "token-expired", detail: "x-verigate-attestation has expired" };
      const code = error instanceof errors.JOSEError ? error.code : "invalid";
      return { reason: "token-invalid", detail: `x-verigate-attestation: ${code}` };
    }
    const cnf = payload["cnf"] as Record<string, unknown> | undefined;
    if (
      certFingerprintHex === undefined ||
      cnf?.["x5t#S256"] !== thumbprintOf(certFingerprintHex)
    ) {
      return {
        reason: "token-not-bound",
        detail: "x-verigate-attestation was issued to another client certificate",
      };
    }
    const facts = payload["tee"] as Omit<TeeClaims, "age" | "boundToClientCert">;
    const attestedAt = payload["attested_at"];
    return Object.freeze({
      ...facts,
      ...(typeof attestedAt === "number" ? { age: Math.max(0, now - attestedAt) } : {}),
      boundToClientCert: true,
    });
  }
}
