import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";

/**
 * TLS client options for a request to `host`, as a browser or curl connects: the
 * SNI names the host the request is for (verigate answers 421 when Host and SNI
 * differ). The test server certificate names `localhost`, `*.localhost`,
 * `verigate.test` and `*.verigate.test`, not every test host, so the server's
 * identity is checked as `localhost`: the chain is still verified against the test CA.
 */
export function connectFor(host: string): {
  servername?: string;
  checkServerIdentity: (name: string, cert: PeerCertificate) => Error | undefined;
} {
  const name = host.replace(/:\d+$/, "");
  return {
    ...(isIP(name) === 0 && name !== "" ? { servername: name } : {}),
    checkServerIdentity: (_name, cert) => checkServerIdentity("localhost", cert),
  };
}
