import { createHash } from "node:crypto";

/**
 * The TEE measurement the dev PKI's carol and dev attestation tokens state:
 * SHA-384 of "verigate-dev-payroll-v3", 96 lowercase hex digits (an SEV-SNP launch
 * measurement is 48 bytes). Docs and examples allowlist it.
 */
export const DEV_MEASUREMENT = createHash("sha384").update("verigate-dev-payroll-v3").digest("hex");
