import { once } from "node:events";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { APP_ROUTES } from "../support/test-routes.js";
import { connectFor } from "../support/connect-for-host.js";

/** Sends headers with `Expect: 100-continue`, waits for the first answer, then sends the body if told to. */
async function expectContinue(h: GatewayHarness, as: IssuedCertificate): Promise<string> {
  const socket = connect({
    host: "127.0.0.1",
    port: h.port,
    ...connectFor("app.test"),
    ca: h.pki.ca.certPem,
    cert: as.chainPem,
    key: as.keyPem,
  });
  await once(socket, "secureConnect");
  socket.write(
    "POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
  );
  let data = "";
  socket.on("data", (chunk: Buffer) => {
    data += chunk.toString();
    if (data.startsWith("HTTP/1.1 100")) socket.write("hello");
  });
  await once(socket, "close");
  return data;
}

describe("Expect: 100-continue", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: APP_ROUTES });
  });
  afterAll(() => h.close());

  it("gets 100 Continue only once the policy allowed, and the upstream gets the body without Expect", async () => {
    const data = await expectContinue(h, h.pki.clients.alice);
    expect(data).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    const seen = h.upstream.seen.at(-1);
    expect(seen?.body).toBe("hello");
    expect(seen?.headers.expect).toBeUndefined();
  });

  it("gets the deny straight away, without 100 Continue, when the policy refuses", async () => {
    const before = h.upstream.seen.length;
    const data = await expectContinue(h, h.pki.clients.bob);
    expect(data).toMatch(/^HTTP\/1\.1 403/);
    expect(h.upstream.seen.length).toBe(before);
  });
});
