import { once } from "node:events";
import { createServer } from "node:net";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { connectFor } from "../support/connect-for-host.js";
import { mtlsRequest, type ClientRequest } from "../support/mtls-client.js";
import { verifiedAssertionOf } from "../support/upstream-assertion.js";

// The whole suite runs on the default engine (undici); `npm run test:http-proxy-3` runs
// it on the other. This file keeps both engines' main paths in every `npm test`.

/** A port that was free a moment ago: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Writes `head` then `body` on a fresh mTLS connection as alice; returns everything read until close. */
async function raw(
  h: GatewayHarness,
  head: string,
  body: (socket: ReturnType<typeof connect>, data: () => string) => void,
): Promise<string> {
  const socket = connect({
    host: "127.0.0.1",
    port: h.port,
    ...connectFor("app.test"),
    ca: h.pki.ca.certPem,
    cert: h.pki.clients.alice.chainPem,
    key: h.pki.clients.alice.keyPem,
  });
  await once(socket, "secureConnect");
  let data = "";
  socket.on("data", (chunk: Buffer) => {
    data += chunk.toString();
  });
  socket.write(head);
  body(socket, () => data);
  await once(socket, "close");
  return data;
}

describe.each(["undici", "http-proxy-3"] as const)("forwarding with proxy.engine: %s", (engine) => {
  let h: GatewayHarness;
  beforeAll(async () => {
    const deadPort = await closedPort();
    h = await startGateway({
      extra: `proxy: { engine: ${engine} }\nlimits: { upstreamTimeout: 300ms }`,
      routes: `routes:
  - name: app
    match: { host: app.test }
    upstream: "{{upstream}}"
    maxBodyBytes: 1000
    policy:
      allow:
        - identity.spiffeId: { prefix: "spiffe://corp.test/user/" }
      deny:
        - identity.commonName: bob
  - name: based
    match: { host: based.test }
    upstream: "{{upstream}}/base/"
    policy:
      allow:
        - identity.commonName: alice
  - name: down
    match: { host: down.test }
    upstream: "http://127.0.0.1:${deadPort}"
    policy:
      allow:
        - identity.commonName: alice
`,
    });
  });
  afterAll(() => h.close());

  const as = (request: Omit<ClientRequest, "port" | "pki" | "as">, who = h.pki.clients.alice) =>
    mtlsRequest({ port: h.port, pki: h.pki, as: who, ...request });

  it("is the engine in force", () => {
    expect(h.gateway.snapshot.proxy.engine).toBe(engine);
  });

  it("forwards an allowed request with verigate's headers and signed assertion, and its answer", async () => {
    const res = await as({ path: "/hello?x=1", headers: { "x-forwarded-for": "6.6.6.6" } });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ method: "GET", url: "/hello?x=1" });
    const seen = h.upstream.seen.at(-1);
    expect(seen?.headers.host).toBe(new URL(h.upstream.url).host);
    expect(seen?.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen?.headers["x-forwarded-host"]).toBe("app.test");
    expect(seen?.headers["x-request-id"]).toBe(res.headers["x-request-id"]);
    await verifiedAssertionOf(h, seen!, "app");
    // The upstream's hop-by-hop headers are its own: the client gets its own framing.
    expect(res.headers["keep-alive"]).toBeUndefined();
  });

  it("does not forward what the policy refuses", async () => {
    const before = h.upstream.seen.length;
    const res = await as({ path: "/hello" }, h.pki.clients.bob);
    expect(res.status).toBe(403);
    expect(h.upstream.seen.length).toBe(before);
  });

  it("joins the upstream URL's path and the authorized target as http-proxy-3 does", async () => {
    const res = await as({ host: "based.test", path: "/a/b?q=1" });
    expect(res.status).toBe(200);
    expect(h.upstream.seen.at(-1)?.url).toBe("/base/a/b?q=1");
  });

  it("streams a declared-length body, and a chunked one chunked", async () => {
    const fixed = await as({ method: "POST", path: "/upload", body: "a=1&b=2" });
    expect(fixed.status).toBe(200);
    expect(h.upstream.seen.at(-1)).toMatchObject({ body: "a=1&b=2" });
    expect(h.upstream.seen.at(-1)?.headers["content-length"]).toBe("7");

    const data = await raw(
      h,
      "POST /chunked-ok HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      (socket) => socket.write("3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n"),
    );
    expect(data).toMatch(/^HTTP\/1\.1 200/);
    const seen = h.upstream.seen.at(-1);
    expect(seen).toMatchObject({ url: "/chunked-ok", body: "a=1&b=2" });
    expect(seen?.headers["transfer-encoding"]).toBe("chunked");
  });

  it("cuts off a chunked body past maxBodyBytes upstream and answers 413", async () => {
    const chunk = "y".repeat(600);
    const data = await raw(
      h,
      "POST /too-big HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n",
      (socket) => {
        socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
      },
    );
    expect(data).toMatch(/^HTTP\/1\.1 413/);
    const requestId = /x-request-id: (\S+)/.exec(data)?.[1] ?? "";
    expect(await h.audit.decisionFor(requestId)).toMatchObject({
      status: 413,
      reasons: ["allowed-by-rule", "body-too-large"],
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.upstream.seen.some((seen) => seen.url === "/too-big")).toBe(false);
  });

  it("answers 100 Continue after the allow, and the upstream gets the body without Expect", async () => {
    const data = await raw(
      h,
      "POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
      (socket, read) => {
        socket.on("data", () => {
          if (read().startsWith("HTTP/1.1 100") && !read().includes("200")) socket.write("hello");
        });
      },
    );
    expect(data).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    expect(h.upstream.seen.at(-1)?.body).toBe("hello");
    expect(h.upstream.seen.at(-1)?.headers.expect).toBeUndefined();
  });

  it("answers 504 when the upstream stays silent, 502 when it refuses or resets", async () => {
    const silent = await as({ path: "/slow/undici" });
    expect(silent.status).toBe(504);
    expect(await h.audit.decisionFor(String(silent.headers["x-request-id"]))).toMatchObject({
      reasons: ["allowed-by-rule", "upstream-timeout"],
      detail: "upstream silent for 300ms",
    });
    const refused = await as({ host: "down.test" });
    expect(refused.status).toBe(502);
    expect(await h.audit.decisionFor(String(refused.headers["x-request-id"]))).toMatchObject({
      reasons: ["allowed-by-rule", "upstream-unreachable"],
      detail: "ECONNREFUSED",
    });
    expect((await as({ path: "/reset/undici" })).status).toBe(502);
  });

  it("closes the client connection when the upstream dies mid-response", async () => {
    await expect(as({ path: "/half/undici" })).rejects.toThrow();
    expect((await as({ path: "/still-alive" })).status).toBe(200);
  });

  it("reuses its upstream connections", async () => {
    await as({ path: "/keep/1" });
    await as({ path: "/keep/2" });
    const [first, second] = h.upstream.seen.filter((seen) => seen.url.startsWith("/keep/"));
    expect(second?.remotePort).toBe(first?.remotePort);
  });
});
