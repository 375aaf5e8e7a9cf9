import { connect } from "node:tls";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { TestPki } from "./pki.js";

/** The host raw requests name by default: covered by the test server certificate. */
export const DEFAULT_HOST = "app.verigate.test";

/** Where a raw request goes: a gateway's listener and the PKI its clients and server share. */
export interface RawTarget {
  readonly port: number;
  readonly pki: TestPki;
}

export interface RawRequestOptions {
  /** The client certificate to present (default alice); `null` for none. */
  readonly as?: Pick<IssuedCertificate, "chainPem" | "keyPem"> | null;
  readonly method?: string;
  /** The request-target, sent byte for byte (latin1): no client library normalizes it. */
  readonly target: string;
  /**
   * The host the client means (default `app.verigate.test`): the TLS server name, and
   * the `Host` header unless a Host line is given. The test server certificate covers
   * `localhost`, `*.localhost`, `verigate.test` and `*.verigate.test`; a host under
   * those lets SNI and Host agree.
   */
  readonly host?: string;
  /** The TLS server name, when it should differ from `host`. */
  readonly servername?: string;
  /**
   * Header lines, in order, as [name, value], sent byte for byte. `Host` is added first
   * unless a Host line is given, and `Connection: close` last unless a Connection line
   * is given.
   */
  readonly headers?: readonly (readonly [string, string])[];
  /** Sent right after the head (also when the head says `Expect: 100-continue`). */
  readonly body?: string;
}

export interface RawResponse {
  /** The final status (1xx interim responses are skipped). */
  readonly status: number;
  /** Response header names lowercased; a repeated name keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly requestId: string;
  readonly body: string;
  /** Everything the server sent, interim responses included. */
  readonly raw: string;
}

interface ParsedHead {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bodyStart: number;
}

/** The first non-1xx response head in `data`, once it is complete. */
function parseFinalHead(data: string): ParsedHead | undefined {
  let at = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", at);
    if (end === -1) return undefined;
    const lines = data.slice(at, end).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
    if (status >= 100 && status < 200 && status !== 101) {
      at = end + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status, headers, bodyStart: end + 4 };
  }
}

/** Decodes a complete chunked body, or returns undefined while it is incomplete. */
function dechunk(data: string): string | undefined {
  let body = "";
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.slice(at, lineEnd), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return data.indexOf("\r\n\r\n", lineEnd) === -1 ? undefined : body;
    const chunkEnd = lineEnd + 2 + size;
    if (data.length < chunkEnd + 2) return undefined;
    body += data.slice(lineEnd + 2, chunkEnd);
    at = chunkEnd + 2;
  }
}

/** The response body once it is complete (by Content-Length or chunks), else undefined. */
function completeBody(head: ParsedHead, data: string): string | undefined {
  const rest = data.slice(head.bodyStart);
  if (head.status === 101 || head.status === 204 || head.status === 304) return "";
  if (head.headers["transfer-encoding"]?.toLowerCase().includes("chunked") === true) {
    return dechunk(rest);
  }
  const length = head.headers["content-length"];
  if (length === undefined) return undefined;
  return Buffer.byteLength(rest, "latin1") >= Number(length) ? rest : undefined;
}

/**
 * One request over a fresh mTLS connection, written by hand so that the request
 * line and headers reach verigate exactly as given (an HTTP client would normalize
 * the target, merge or refuse headers, and add its own). The client verifies
 * verigate's certificate against the test CA. Resolves with the final response as
 * soon as it is complete (a 101 as soon as its head is), or when the server closes;
 * the connection is then closed.
 */
export function rawRequest(to: RawTarget, options: RawRequestOptions): Promise<RawResponse> {
  const as = options.as === undefined ? to.pki.clients.alice : options.as;
  const given = options.headers ?? [];
  const has = (name: string): boolean => given.some(([n]) => n.toLowerCase() === name);
  const host = options.host ?? DEFAULT_HOST;
  const lines = [
    `${options.method ?? "GET"} ${options.target} HTTP/1.1`,
    ...(has("host") ? [] : [`Host: ${host}`]),
    ...given.map(([name, value]) => `${name}: ${value}`),
    ...(has("connection") ? [] : ["Connection: close"]),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port: to.port,
      servername: options.servername ?? host,
      ca: to.pki.ca.certPem,
      ...(as === null ? {} : { cert: as.chainPem, key: as.keyPem }),
    });
    let data = "";
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      const head = parseFinalHead(data);
      const body = head === undefined ? undefined : completeBody(head, data);
      // Incomplete: wait for more, unless the server closed (then report what arrived,
      // status 0 when not even a head did).
      if ((head === undefined || body === undefined) && !socket.destroyed) return;
      settled = true;
      socket.destroy();
      resolve({
        status: head?.status ?? 0,
        headers: head?.headers ?? {},
        requestId: head?.headers["x-request-id"] ?? "",
        body: body ?? (head === undefined ? "" : data.slice(head.bodyStart)),
        raw: data,
      });
    };
    socket.on("secureConnect", () => {
      socket.write(Buffer.from(`${lines.join("\r\n")}\r\n\r\n${options.body ?? ""}`, "latin1"));
    });
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString("latin1");
      finish();
    });
    socket.on("error", (error: Error) => {
      if (!settled && data === "") {
        settled = true;
        reject(error);
      }
    });
    socket.on("close", finish);
  });
}
