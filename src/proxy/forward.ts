import type {
  ClientRequest,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import { pipeline, type Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { buildResponseHeaders } from "./response-headers.js";
import type { Upstream } from "./upstream.js";

/** How forwarding ended when it did not end with the upstream's response. */
export type ForwardFailure = { readonly kind: "unreachable" | "timeout"; readonly detail: string };

export interface Forwarder {
  /** Forwards an allowed request; `onFailure` runs at most once, before any response byte was sent. */
  web(
    req: IncomingMessage,
    res: ServerResponse,
    request: ForwardRequest,
    onFailure: (failure: ForwardFailure) => void,
  ): void;
  /** Forwards an allowed upgrade; on failure the client socket is already closed. */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    request: ForwardRequest,
    onFailure: (failure: ForwardFailure) => void,
  ): void;
}

export interface ForwardRequest {
  readonly upstream: Upstream;
  /** Canonical path and query: exactly what was authorized. */
  readonly target: string;
  readonly headers: OutgoingHttpHeaders;
  readonly timeoutMs: number;
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

/**
 * The only user of the proxy library. It guards the library's gaps: the request
 * line and headers are replaced with verigate's own before the library sees them
 * (it copies headers verbatim and skips its `proxyReq` hook on `Expect`), every
 * call has an error path, and an upstream that dies mid-response closes the client
 * connection instead of leaving it hanging.
 */
export function createForwarder(): Forwarder {
  // selfHandleResponse: verigate writes the response head itself, from a built header set.
  const proxy = createProxyServer({
    xfwd: false,
    changeOrigin: false,
    prependPath: true,
    selfHandleResponse: true,
  });
  // A safety net: errors not routed to a per-call callback must never kill the process.
  proxy.on("error", (_error: unknown, _req: unknown, res: unknown) => {
    if (res !== undefined && typeof (res as Duplex).destroy === "function")
      (res as Duplex).destroy();
  });
  proxy.on("proxyRes", (proxyRes: IncomingMessage, _req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(
      proxyRes.statusCode ?? 502,
      proxyRes.statusMessage,
      buildResponseHeaders(proxyRes.headers),
    );
    // An upstream that dies mid-response must not leave the client waiting for the rest.
    pipeline(proxyRes, res, (error) => {
      if (error !== undefined || !proxyRes.complete) res.destroy();
    });
  });

  // The library applies no upstream timeout to upgrades: bound the wait for the
  // upstream's answer here (the library resets the socket timeout once upgraded).
  const upgradeTimeouts = new WeakMap<IncomingMessage, number>();
  proxy.on("proxyReqWs", (proxyReq: ClientRequest, req: IncomingMessage) => {
    const timeoutMs = upgradeTimeouts.get(req);
    if (timeoutMs !== undefined)
      proxyReq.setTimeout(timeoutMs, () => proxyReq.destroy(new Error("upstream timeout")));
  });

  function prepare(req: IncomingMessage, request: ForwardRequest): void {
    req.url = request.target;
    req.headers = request.headers as IncomingMessage["headers"];
  }

  return {
    web(req, res, request, onFailure) {
      prepare(req, request);
      const started = performance.now();
      proxy.web(
        req,
        res,
        {
          target: request.upstream.url,
          agent: request.upstream.agent,
          proxyTimeout: request.timeoutMs,
        },
        (error: unknown) => {
          if (res.headersSent) {
            res.destroy();
            return;
          }
          // The library reports its own timeout as a plain reset: tell them apart by the clock.
          const timedOut = performance.now() - started >= request.timeoutMs;
          onFailure({ kind: timedOut ? "timeout" : "unreachable", detail: describe(error) });
        },
      );
    },
    upgrade(req, socket, head, request, onFailure) {
      prepare(req, request);
      upgradeTimeouts.set(req, request.timeoutMs);
      const started = performance.now();
      proxy.ws(
        req,
        socket,
        head,
        {
          target: request.upstream.url,
          agent: request.upstream.agent,
          proxyTimeout: request.timeoutMs,
        },
        (error: unknown) => {
          const timedOut = performance.now() - started >= request.timeoutMs;
          socket.destroy();
          onFailure({ kind: timedOut ? "timeout" : "unreachable", detail: describe(error) });
        },
      );
    },
  };
}
