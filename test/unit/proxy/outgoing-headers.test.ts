import { describe, expect, it } from "vitest";
import { buildOutgoingHeaders, type ForwardingFacts } from "../../../src/proxy/outgoing-headers.js";
import { buildResponseHeaders } from "../../../src/proxy/response-headers.js";

const FACTS: ForwardingFacts = {
  host: "upstream:9000",
  clientHost: "app.test",
  clientIp: "192.0.2.7",
  requestId: "rid-1",
  isUpgrade: false,
  consumed: ["x-attestation-token"],
};
const SET_BY_VERIGATE = {
  host: "upstream:9000",
  "x-forwarded-for": "192.0.2.7",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "app.test",
  "x-request-id": "rid-1",
};

describe("buildOutgoingHeaders", () => {
  it.each([
    ["end-to-end headers pass", { accept: "*/*", cookie: "a=1" }, { accept: "*/*", cookie: "a=1" }],
    [
      "hop-by-hop headers go",
      {
        connection: "keep-alive",
        "keep-alive": "5",
        te: "trailers",
        trailer: "x",
        upgrade: "h2c",
        "proxy-authorization": "Basic x",
      },
      {},
    ],
    [
      "names listed in Connection go",
      { connection: "x-a, X-B", "x-a": "1", "x-b": "2", "x-c": "3" },
      { "x-c": "3" },
    ],
    [
      "proxy-asserted headers go",
      {
        "x-verigate-user": "a",
        "x-forwarded-for": "1.1.1.1",
        forwarded: "for=x",
        "x-real-ip": "x",
        "x-request-id": "x",
        "x-forwarded-client-cert": "x",
        "x-original-url": "/a",
      },
      {},
    ],
    ["names with _ go", { x_verigate_user: "a", my_header: "b" }, {}],
    ["Expect goes (verigate answers 100-continue)", { expect: "100-continue" }, {}],
    [
      "token headers verigate consumed go",
      { "x-attestation-token": "eyJ...", "x-other-token": "t" },
      { "x-other-token": "t" },
    ],
    [
      "content-length stays even when named in Connection",
      { connection: "content-length", "content-length": "3" },
      { "content-length": "3" },
    ],
    [
      "a chunked body stays chunked",
      { "transfer-encoding": "gzip, chunked" },
      { "transfer-encoding": "chunked" },
    ],
  ])("%s", (_name, incoming, expected) => {
    expect(buildOutgoingHeaders(incoming, FACTS)).toEqual({ ...expected, ...SET_BY_VERIGATE });
  });

  it("keeps Upgrade and sends Connection: upgrade for upgrades only", () => {
    const incoming = { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "k" };
    expect(buildOutgoingHeaders(incoming, { ...FACTS, isUpgrade: true })).toEqual({
      connection: "upgrade",
      upgrade: "websocket",
      "sec-websocket-key": "k",
      ...SET_BY_VERIGATE,
    });
    expect(buildOutgoingHeaders(incoming, FACTS)).toEqual({
      "sec-websocket-key": "k",
      ...SET_BY_VERIGATE,
    });
  });
});

describe("buildResponseHeaders", () => {
  it("drops the upstream connection's hop-by-hop headers and keeps the rest", () => {
    expect(
      buildResponseHeaders({
        connection: "close, x-hop",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
        "x-hop": "1",
        "content-type": "text/plain",
        "set-cookie": ["a=1", "b=2"],
      }),
    ).toEqual({ "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] });
  });
});
