import { Agent, request } from "node:https";
import type { TLSSocket } from "node:tls";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import { collectResponse, type ClientResponse } from "./mtls-client.js";
import type { TestPki } from "./pki.js";
import { connectFor } from "./connect-for-host.js";

export interface KeepAliveResponse extends ClientResponse {
  /** The connection it came on (reused while the server keeps it open). */
  readonly socket: TLSSocket;
}

/** An mTLS client over one kept-alive connection at a time (an https.Agent with one socket). */
export interface KeepAliveClient {
  get(path: string): Promise<KeepAliveResponse>;
  close(): void;
}

export function keepAliveClient(
  port: number,
  pki: TestPki,
  as: Pick<IssuedCertificate, "chainPem" | "keyPem">,
): KeepAliveClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get(path) {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            ...connectFor("app.test"),
            ca: pki.ca.certPem,
            cert: as.chainPem,
            key: as.keyPem,
            path,
            headers: { host: "app.test" },
            agent,
          },
          (res) => {
            // Captured now: the agent takes the socket back once the response ends.
            const socket = res.socket as TLSSocket;
            collectResponse(res).then((response) => resolve({ ...response, socket }), reject);
          },
        );
        req.on("error", reject);
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}
