import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reloader } from "../../src/reload/reloader.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { keepAliveClient, type KeepAliveClient } from "../support/keep-alive-client.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { ALICE_ONLY_ROUTE, editConfig, reloaderFor } from "../support/reload-harness.js";

describe("a reload that changes tls.clientCAs", () => {
  let h: GatewayHarness;
  let reloader: Reloader;
  const clients: KeepAliveClient[] = [];
  beforeAll(async () => {
    h = await startGateway({
      crl: false,
      extra: "reload: { watch: false }",
      routes: ALICE_ONLY_ROUTE,
    });
    reloader = reloaderFor(h);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    reloader.close();
    await h.close();
  });

  it("refuses the old CA's clients on new connections and ends connections made before", async () => {
    const idle = keepAliveClient(h.port, h.pki, h.pki.clients.alice);
    const busy = keepAliveClient(h.port, h.pki, h.pki.clients.alice);
    clients.push(idle, busy);
    const first = await idle.get("/before");
    expect(first.status).toBe(200);
    const idleClosed = once(first.socket, "close");

    // A request is in flight on `busy` while the trust anchors change.
    const inFlight = busy.get("/delay/busy");
    await expect.poll(() => h.upstream.seen.some((seen) => seen.url === "/delay/busy")).toBe(true);
    await editConfig(h, `clientCAs: ${h.files.clientCAs}`, `clientCAs: ${h.files.otherCa}`);
    expect((await reloader.reload("test")).result).toBe("applied");

    // The idle connection, verified under the old CAs, is closed.
    await idleClosed;
    // The busy one finishes its request, then its next request is refused: retry elsewhere.
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    const refused = await busy.get("/after");
    expect(refused.socket).toBe(finished.socket);
    expect(refused.status).toBe(421);
    expect(refused.headers.connection).toBe("close");
    const line = await h.audit.decisionFor(String(refused.headers["x-request-id"]));
    expect(line).toMatchObject({ decision: "deny", reasons: ["tls-settings-changed"] });
    expect(h.upstream.seen.some((seen) => seen.url === "/after")).toBe(false);

    // New connections are verified against the new CAs only.
    const alice = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice });
    expect(alice.status).toBe(401);
    const other = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.fromOtherCa });
    expect(other.status).toBe(200);
  });
});
