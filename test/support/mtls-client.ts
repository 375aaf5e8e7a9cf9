import { request, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { TestPki } from "./pki.js";
import { connectFor } from "./connect-for-host.js";

export interface ClientResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  json<T = Record<string, unknown>>(): T;
}

export interface ClientRequest {
  readonly port: number;
  readonly pki: TestPki;
  /** The client certificate to present; none when omitted. */
  readonly as?: Pick<IssuedCertificate, "chainPem" | "keyPem">;
  readonly method?: string;
  readonly path?: string;
  /** The Host header (default `app.test`). */
  readonly host?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string;
  /** The TLS server name (SNI); by default the Host's name, as browsers and curl send it. */
  readonly servername?: string;
}

/** Reads a whole response: status, headers and the body as UTF-8. */
export function collectResponse(res: IncomingMessage): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("error", reject);
    res.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body,
        json: <T>() => JSON.parse(body) as T,
      });
    });
  });
}

/**
 * One request over a fresh mTLS connection. The client verifies verigate's server
 * certificate against the test CA: never `rejectUnauthorized: false`.
 */
export function mtlsRequest(options: ClientRequest): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: options.port,
        ...connectFor(options.host ?? "app.test"),
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        ca: options.pki.ca.certPem,
        ...(options.as === undefined ? {} : { cert: options.as.chainPem, key: options.as.keyPem }),
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: { host: options.host ?? "app.test", ...options.headers },
        agent: false,
      },
      (res) => void collectResponse(res).then(resolve, reject),
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A plain HTTP GET to the admin listener. */
export function adminGet(port: number, path: string): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      collectResponse(res).then(resolve, reject);
    });
    req.on("error", reject);
    req.end();
  });
}
