import { writeDevPki, type ExtraDevClient } from "../dev-pki/write-dev-pki.js";

/** `--client NAME --claims JSON`: one more client, from the dev attestation CA, with those claims. */
function extraClient(name: string | undefined, claimsJson: string | undefined): ExtraDevClient[] {
  if (name === undefined && claimsJson === undefined) return [];
  if (name === undefined) throw new Error("--claims needs --client NAME");
  if (claimsJson === undefined) return [{ name }];
  let claims: unknown;
  try {
    claims = JSON.parse(claimsJson);
  } catch {
    throw new Error('--claims: not JSON (e.g. \'{"tee": {"platform": "tdx", "debug": true}}\')');
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw new Error("--claims: a JSON object with device and/or tee");
  }
  return [{ name, claims: claims }];
}

/**
 * `verigate dev-pki --out DIR [--client NAME [--claims JSON]]`: a throwaway PKI for
 * trying verigate, optionally with one more client carrying the given claims.
 */
export async function runDevPki(
  out: string,
  client?: string,
  claimsJson?: string,
): Promise<number> {
  const files = await writeDevPki(out, { extraClients: extraClient(client, claimsJson) });
  console.log(`dev PKI written to ${files.dir} (throwaway: never use it in production)
  CA (tls.clientCAs, curl --cacert):  ${files.ca}
  CRL (tls.crl):                      ${files.crl}
  server certificate (tls.cert/key):  ${files.server.cert}
                                      ${files.server.key}
  client alice:                       ${files.clients.alice.cert}
                                      ${files.clients.alice.key}
  client bob:                         ${files.clients.bob.cert}
                                      ${files.clients.bob.key}
  client carol (device and TEE claims in her certificate, from the dev attestation CA):
                                      ${files.clients.carol.cert}
                                      ${files.clients.carol.key}
  dev attestation CA (issuers[].ca):  ${files.attestationCa}
  dev attestation service JWKS (issuers[].jwks.file):
                                      ${files.attestationService.jwks}
  a dev attestation token for carol:  npx verigate dev-token --pki ${files.dir} --client carol`);
  if (client !== undefined) {
    console.log(`  client ${client} (from the dev attestation CA):
                                      ${files.clients[client]?.cert ?? ""}
                                      ${files.clients[client]?.key ?? ""}`);
  }
  return 0;
}
