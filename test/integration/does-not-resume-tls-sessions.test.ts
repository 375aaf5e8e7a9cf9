import { once } from "node:events";
import { connect, type SecureVersion, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";
import { connectFor } from "../support/connect-for-host.js";

/**
 * A resumed TLS session keeps the peer certificate of the original handshake, so
 * resumption could carry an identity past a CRL or CA change. verigate turns it off;
 * these tests try hard to resume and check that every handshake was a full one.
 */
describe("TLS session resumption", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  async function handshake(
    version: SecureVersion,
    session?: Buffer,
  ): Promise<{ reused: boolean; session: Buffer | undefined }> {
    const alice = h.pki.clients.alice;
    const sessions: Buffer[] = [];
    const socket: TLSSocket = connect({
      host: "127.0.0.1",
      port: h.port,
      ...connectFor("app.test"),
      ca: h.pki.ca.certPem,
      cert: alice.chainPem,
      key: alice.keyPem,
      minVersion: version,
      maxVersion: version,
      ...(session === undefined ? {} : { session }),
    });
    socket.on("session", (s: Buffer) => sessions.push(s));
    await once(socket, "secureConnect");
    const reused = socket.isSessionReused();
    // TLS 1.3 tickets arrive after the handshake, with the first application data.
    socket.write("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
    socket.resume();
    await once(socket, "close");
    return { reused, session: sessions.at(-1) };
  }

  it.each(["TLSv1.2", "TLSv1.3"] as const)("never happens with %s", async (version) => {
    const first = await handshake(version);
    expect(first.reused).toBe(false);
    // The client did get something to try resuming with (a ticket or session id).
    expect(first.session).toBeInstanceOf(Buffer);
    const second = await handshake(version, first.session);
    expect(second.reused).toBe(false);
  });
});
