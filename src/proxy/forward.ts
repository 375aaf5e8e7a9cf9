import type {
  ClientRequest,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import { pipeline, type Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { createProxyServer } from "http-proxy-3";
import { BodyLimit } from "./body-limit.js";
import { buildResponseHeaders } from "./response-headers.js";
import type { Upstream } from "./upstream.js";

/** How forwarding ended when it did not end with the upstream's response. */
export type ForwardFailure = {
  readonly kind: "unreachable" | "timeout" | "body-too-large";
  readonly detail: string;
};

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
  /** From sending the request to the upstream's response head. */
  readonly timeoutMs: number;
  /** For a new upstream connection to be established (TCP, and TLS for https). */
  readonly connectTimeoutMs: number;
  /** A chunked request body longer than this is not forwarded whole: the upstream request is aborted. */
  readonly maxBodyBytes: number;
}

/** Why verigate itself aborted an upstream request, when it did. */
export type AbortCause = "connect-timeout" | "response-timeout" | "body-too-large";

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

/** Whether a TLS client socket finished its handshake (verified, or failed verification). */
function handshakeDone(socket: TLSSocket): boolean {
  return socket.authorized || Boolean(socket.authorizationError);
}

/** Why forwarding failed: an abort of verigate's own (a timeout, a body over its limit), or the upstream. */
export function classify(
  cause: AbortCause | undefined,
  error: unknown,
  request: ForwardRequest,
): ForwardFailure {
  switch (cause) {
    case "body-too-large":
      return { kind: "body-too-large", detail: `chunked body over ${request.maxBodyBytes} bytes` };
    case "connect-timeout":
      return { kind: "timeout", detail: `no connection within ${request.connectTimeoutMs}ms` };
    case "response-timeout":
      return { kind: "timeout", detail: `upstream silent for ${request.timeoutMs}ms` };
    case undefined:
      return { kind: "unreachable", detail: describe(error) };
  }
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

  // Per request: the connect timeout, the abort of a body over its limit, and why it was aborted.
  const pending = new WeakMap<
    IncomingMessage,
    { connectTimeoutMs: number; timeoutMs: number; https: boolean }
  >();
  const upstreamRequests = new WeakMap<IncomingMessage, ClientRequest>();
  const aborted = new WeakMap<IncomingMessage, AbortCause>();
  function abort(req: IncomingMessage, cause: AbortCause): void {
    aborted.set(req, cause);
    upstreamRequests.get(req)?.destroy(new Error(cause));
  }
  // Emitted for every request: the library skips it only on an `Expect` header, which verigate never forwards.
  proxy.on(
    "proxyReq",
    (
      proxyReq: ClientRequest,
      req: IncomingMessage,
      _res: unknown,
      _options: unknown,
      socket: Socket,
    ) => {
      upstreamRequests.set(req, proxyReq);
      const settings = pending.get(req);
      if (settings === undefined) return;
      // The response timeout is verigate's own (not the library's proxyTimeout), so a
      // timeout is known as one, not guessed from the clock.
      proxyReq.setTimeout(settings.timeoutMs, () => abort(req, "response-timeout"));
      // The library emits this from the request's "socket" event: the socket is known now.
      // Connected already: a kept-alive connection, or a connect (and handshake) that won the race.
      const connecting = settings.https ? !handshakeDone(socket as TLSSocket) : socket.connecting;
      if (proxyReq.reusedSocket || !connecting) return;
      const timer = setTimeout(() => abort(req, "connect-timeout"), settings.connectTimeoutMs);
      socket.once(settings.https ? "secureConnect" : "connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    },
  );

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
      // A chunked body has no declared length to check first: it is counted as it streams.
      const body =
        req.headers["transfer-encoding"] === undefined
          ? undefined
          : req.pipe(new BodyLimit(request.maxBodyBytes, () => abort(req, "body-too-large")));
      prepare(req, request);
      pending.set(req, {
        connectTimeoutMs: request.connectTimeoutMs,
        timeoutMs: request.timeoutMs,
        https: request.upstream.url.protocol === "https:",
      });
      proxy.web(
        req,
        res,
        {
          target: request.upstream.url,
          agent: request.upstream.agent,
          ...(body === undefined ? {} : { buffer: body }),
        },
        (error: unknown) => {
          if (res.headersSent) {
            res.destroy();
            return;
          }
          onFailure(classify(aborted.get(req), error, request));
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
