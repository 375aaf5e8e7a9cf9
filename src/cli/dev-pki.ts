import { writeDevPki } from "../dev-pki/write-dev-pki.js";

/** `verigate dev-pki --out DIR`: a throwaway PKI for trying verigate. */
export async function runDevPki(out: string): Promise<number> {
  const files = await writeDevPki(out);
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
  return 0;
}
