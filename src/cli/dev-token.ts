import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { mintDevAttestationToken } from "../dev-pki/dev-attestation-service.js";

export interface DevTokenArgs {
  readonly pki: string;
  readonly client: string;
  readonly platform?: string | undefined;
  readonly measurement?: string | undefined;
  readonly debug?: boolean | undefined;
  readonly nonce?: string | undefined;
  readonly unbound?: boolean | undefined;
  readonly lifetime?: string | undefined;
}

/**
 * `verigate dev-token --pki DIR --client NAME`: prints a dev attestation token
 * (azure-maa shaped, signed by the dev PKI's throwaway attestation service, bound
 * to the client's certificate), for trying attestation policies without a TEE.
 */
export async function runDevToken(args: DevTokenArgs): Promise<number> {
  if (!/^[a-z0-9-]+$/.test(args.client))
    throw new Error(`--client ${args.client}: a dev PKI client name (alice, carol...)`);
  if (args.platform !== undefined && args.platform !== "sev-snp" && args.platform !== "tdx") {
    throw new Error("--platform: sev-snp or tdx");
  }
  const lifetimeSeconds = args.lifetime === undefined ? undefined : Number(args.lifetime);
  if (
    lifetimeSeconds !== undefined &&
    !(Number.isInteger(lifetimeSeconds) && lifetimeSeconds > 0)
  ) {
    throw new Error("--lifetime: a number of seconds");
  }
  const token = await mintDevAttestationToken({
    keyPem: await readFile(join(args.pki, "attestation-service-key.pem"), "utf8"),
    clientCertPem: await readFile(join(args.pki, `${args.client}.pem`), "utf8"),
    ...(args.platform === undefined ? {} : { platform: args.platform }),
    ...(args.measurement === undefined ? {} : { measurement: args.measurement.toLowerCase() }),
    ...(args.debug === undefined ? {} : { debug: args.debug }),
    ...(args.nonce === undefined ? {} : { nonce: args.nonce }),
    ...(args.unbound === undefined ? {} : { unbound: args.unbound }),
    ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }),
  });
  console.log(token);
  return 0;
}
