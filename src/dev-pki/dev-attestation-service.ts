/**
 * A throwaway attestation service for trying attestation policies without a TEE:
 * it signs Microsoft Azure Attestation-shaped tokens (the `azure-maa` profile)
 * for a dev client, bound to that client's certificate. Nothing here is fit for
 * production: a real token comes from an attestation service that checked
 * hardware evidence.
 */
import { createHash, X509Certificate } from "node:crypto";
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT } from "jose";
import { DEV_MEASUREMENT } from "./dev-measurement.js";

/** The `iss` of dev attestation tokens, and the key id of the dev service's key. */
export const DEV_ATTESTATION_ISSUER = "https://attestation.verigate.test";
export const DEV_ATTESTATION_AUDIENCE = "verigate";
const KEY_ID = "verigate-dev-attestation-1";
const ALGORITHM = "ES256";

/** A new service key: its private key as PKCS#8 PEM and its public JWKS as JSON text. */
export async function createDevAttestationService(): Promise<{ keyPem: string; jwksJson: string }> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: KEY_ID, alg: ALGORITHM, use: "sig" };
  return {
    keyPem: await exportPKCS8(privateKey),
    jwksJson: `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`,
  };
}

export interface DevTokenOptions {
  /** The dev service's private key (PKCS#8 PEM). */
  readonly keyPem: string;
  /** The client certificate (PEM; the first certificate is the leaf) the token is bound to. */
  readonly clientCertPem: string;
  readonly platform?: "sev-snp" | "tdx";
  readonly measurement?: string;
  readonly debug?: boolean;
  /** A nonce from POST /.well-known/verigate/nonce to echo. */
  readonly nonce?: string;
  /** Leave out the certificate binding (cnf), to see a binding policy refuse it. */
  readonly unbound?: boolean;
  readonly lifetimeSeconds?: number;
  /** Seconds since the epoch (default now). */
  readonly issuedAt?: number;
}

function vendorClaims(
  platform: "sev-snp" | "tdx",
  measurement: string,
  debug: boolean,
): Record<string, unknown> {
  if (platform === "tdx") {
    return {
      "x-ms-attestation-type": "tdxvm",
      tdx_mrtd: measurement,
      tdx_td_attributes_debug: debug,
      attester_tcb_status: "UpToDate",
    };
  }
  return {
    "x-ms-attestation-type": "sevsnpvm",
    "x-ms-sevsnpvm-launchmeasurement": measurement,
    "x-ms-sevsnpvm-is-debuggable": debug,
    "x-ms-sevsnpvm-guestsvn": 3,
    "x-ms-compliance-status": "azure-compliant-cvm",
  };
}

/** Signs a dev attestation token for a client certificate. */
export async function mintDevAttestationToken(options: DevTokenOptions): Promise<string> {
  const leaf = new X509Certificate(options.clientCertPem);
  const thumbprint = createHash("sha256").update(leaf.raw).digest("base64url");
  const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims = {
    ...vendorClaims(
      options.platform ?? "sev-snp",
      options.measurement ?? DEV_MEASUREMENT,
      options.debug ?? false,
    ),
    ...(options.nonce === undefined ? {} : { "x-ms-runtime": { nonce: options.nonce } }),
    ...(options.unbound === true ? {} : { cnf: { "x5t#S256": thumbprint } }),
  };
  const key = await importPKCS8(options.keyPem, ALGORITHM);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, kid: KEY_ID, typ: "JWT" })
    .setIssuer(DEV_ATTESTATION_ISSUER)
    .setAudience(DEV_ATTESTATION_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.lifetimeSeconds ?? 300))
    .sign(key);
}
