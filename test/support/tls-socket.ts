import { once } from "node:events";
import { connect, type TLSSocket } from "node:tls";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import { connectFor } from "./connect-for-host.js";
import type { RawTarget } from "./raw-request.js";

/** An mTLS connection to the gateway, made and verified, to write to at the test's own pace. */
export async function openTls(
  to: RawTarget,
  as: Pick<IssuedCertificate, "chainPem" | "keyPem">,
  host = "app.verigate.test",
): Promise<TLSSocket> {
  const socket = connect({
    host: "127.0.0.1",
    port: to.port,
    ca: to.pki.ca.certPem,
    cert: as.chainPem,
    key: as.keyPem,
    ...connectFor(host),
  });
  socket.on("error", () => undefined);
  await once(socket, "secureConnect");
  return socket;
}

/** Everything the server sends until it closes the connection (or `timeoutMs` passes). */
export function readUntilClosed(socket: TLSSocket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    const timer = setTimeout(() => resolve(`${data}<<still open>>`), timeoutMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

/** The status codes of every response in `data`, in order. */
export function statusesIn(data: string): number[] {
  return [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}
