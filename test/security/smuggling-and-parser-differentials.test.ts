import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { DEFAULT_HOST, rawRequest } from "../support/raw-request.js";
import { openTls, readUntilClosed, statusesIn } from "../support/tls-socket.js";

/**
 * Request smuggling and parser differentials: a request that verigate and the
 * upstream (or a proxy in front) could frame or attribute differently. Node's
 * parser already refuses CL with TE, obs-fold and bare CR; verigate refuses what
 * it lets through (SECURITY-NOTES.md, "Node's HTTP parser"). Every case checks the
 * status, the audit line, and that the upstream saw nothing, or exactly one request.
 */

const ROUTES = `routes:
  - name: app
    match: { host: ${DEFAULT_HOST} }
    upstream: "{{upstream}}"
    policy:
      allow:
        - identity.commonName: alice
`;

describe("smuggling and parser differentials", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway({ routes: ROUTES });
  });
  afterAll(() => h.close());

  /** Sends a raw head (and body), asserts the refusal and that nothing reached the upstream. */
  async function expectRefused(
    headers: ReadonlyArray<readonly [string, string]>,
    status: number,
    reason: string | undefined,
    options: { method?: string; body?: string } = {},
  ): Promise<void> {
    const before = h.upstream.seen.length;
    const res = await rawRequest(h, { target: "/x", headers, ...options });
    expect(res.status).toBe(status);
    if (reason !== undefined) {
      const line = await h.audit.decisionFor(res.requestId);
      expect(line).toMatchObject({ decision: "deny", reasons: [reason], status });
    }
    expect(h.upstream.seen.length).toBe(before);
  }

  it("a second Host header (the first wins in Node, the last in other parsers)", async () => {
    await expectRefused(
      [
        ["Host", DEFAULT_HOST],
        ["Host", "admin.internal"],
      ],
      400,
      "malformed-request",
    );
    const line = h.audit.decisions().at(-1);
    expect(line?.detail).toBe("more than one host header");
  });

  it("a second Content-Length or Transfer-Encoding header", async () => {
    await expectRefused(
      [
        ["Content-Length", "3"],
        ["Content-Length", "3"],
      ],
      400,
      undefined,
      { method: "POST", body: "abc" },
    );
    await expectRefused(
      [
        ["Transfer-Encoding", "chunked"],
        ["Transfer-Encoding", "chunked"],
      ],
      400,
      undefined,
      { method: "POST", body: "0\r\n\r\n" },
    );
  });

  it("Content-Length with Transfer-Encoding (CL.TE / TE.CL desync, refused by Node's parser, audited)", async () => {
    await expectRefused(
      [
        ["Content-Length", "4"],
        ["Transfer-Encoding", "chunked"],
      ],
      400,
      "malformed-request",
      { method: "POST", body: "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n" },
    );
    expect(h.upstream.seen.some((seen) => seen.url === "/smuggled")).toBe(false);
  });

  it("chunked Transfer-Encoding on HTTP/1.0, which has no chunked encoding", async () => {
    const before = h.upstream.seen.length;
    const socket = await openTls(h, h.pki.clients.alice);
    const reply = readUntilClosed(socket);
    socket.write(
      `POST /x HTTP/1.0\r\nHost: ${DEFAULT_HOST}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    );
    expect(statusesIn(await reply)).toEqual([400]);
    expect(h.upstream.seen.length).toBe(before);
  });

  it("obs-fold continuation lines smuggling a header (refused by Node's parser)", async () => {
    await expectRefused(
      [
        ["X-Note", "a"],
        [" x-verigate-user", "bob"],
      ],
      400,
      "malformed-request",
    );
  });

  it("a request smuggled in the body of an allowed one reaches the upstream as body, once", async () => {
    const before = h.upstream.seen.length;
    const smuggled = `GET /admin HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\n\r\n`;
    const res = await rawRequest(h, {
      target: "/upload",
      method: "POST",
      headers: [["Content-Length", String(smuggled.length)]],
      body: smuggled,
    });
    expect(res.status).toBe(200);
    const seen = h.upstream.seen.slice(before);
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([["POST", "/upload", smuggled]]);
  });

  it("pipelined requests are decided one by one: an allowed one cannot carry a refused one", async () => {
    const before = h.upstream.seen.length;
    const socket = await openTls(h, h.pki.clients.alice);
    const reply = readUntilClosed(socket);
    socket.write(
      `GET /first HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\n\r\n` +
        `GET /second HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\nHost: evil.test\r\n\r\n` +
        `GET /third HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\nConnection: close\r\n\r\n`,
    );
    // The second is refused and the connection closed after its answer. Node parses
    // pipelined requests ahead, so the third is decided on its own (and allowed): what
    // matters is that the refused one never reaches the upstream.
    expect(statusesIn(await reply).slice(0, 2)).toEqual([200, 400]);
    const urls = h.upstream.seen.slice(before).map((s) => s.url);
    expect(urls).toContain("/first");
    expect(urls).not.toContain("/second");
    const denied = h.audit.decisions().filter((line) => line.decision === "deny");
    expect(denied.at(-1)).toMatchObject({ reasons: ["malformed-request"] });
  });

  it("garbage sent while a response is streaming is not answered inside that response", async () => {
    const socket = await openTls(h, h.pki.clients.alice);
    const reply = readUntilClosed(socket);
    let sent = false;
    socket.on("data", () => {
      if (sent) return;
      sent = true;
      socket.write("GARBAGE\r\n\r\n");
    });
    socket.write(`GET /stream/x HTTP/1.1\r\nHost: ${DEFAULT_HOST}\r\n\r\n`);
    const received = await reply;
    expect(statusesIn(received)).toEqual([200]);
    expect(received).not.toContain("Bad Request");
    // The garbage is no request: no audit line calls it one.
    expect(h.audit.decisions().some((l) => String(l.detail).includes("HPE_INVALID_METHOD"))).toBe(
      false,
    );
  });

  it("more header fields than limits.maxHeaderCount (Node alone drops those past ~1000 silently)", async () => {
    const headers = Array.from({ length: 150 }, (_, i) => [`x-filler-${i}`, "1"] as const);
    await expectRefused(headers, 431, "too-many-headers");
  });

  it("an authorization header hidden past a thousand filler headers is not silently dropped", async () => {
    const headers = [
      ...Array.from({ length: 1100 }, (_, i) => [`x-${i}`, "1"] as const),
      ["Authorization", "Bearer x"] as const,
    ];
    await expectRefused(headers, 431, "too-many-headers");
  });
});
