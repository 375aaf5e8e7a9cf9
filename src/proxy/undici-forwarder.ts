import type { OutgoingHttpHeaders } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import { Pool, type Dispatcher } from "undici";
import { BodyLimit } from "./body-limit.js";
import { classify, createForwarder, type AbortCause, type Forwarder } from "./forward.js";
import { buildResponseHeaders } from "./response-headers.js";
import { obtainPool, type Upstream } from "./upstream.js";

type UndiciHeaders = NonNullable<Dispatcher.DispatchOptions["headers"]>;

/** undici's error codes for its own timeouts, as verigate names them. */
const TIMEOUTS: Readonly<Record<string, AbortCause>> = {
  UND_ERR_CONNECT_TIMEOUT: "connect-timeout",
  UND_ERR_HEADERS_TIMEOUT: "response-timeout",
  UND_ERR_BODY_TIMEOUT: "response-timeout",
};

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * The path the upstream receives: the upstream URL's path, then the authorized
 * target, joined as http-proxy-3 joins them with `prependPath` (one `/` between).
 * The target is canonical, a fixed point of URL parsing, so nothing else changes.
 */
export function joinUpstreamPath(basePath: string, target: string): string {
  if (basePath === "/" || basePath === "") return target;
  return basePath.endsWith("/") ? basePath + target.slice(1) : basePath + target;
}

/**
 * The pool of one upstream. Its connect timeout is a snapshot's limit, and the
 * upstream belongs to one snapshot: the first request's value is every request's.
 */
function poolFor(upstream: Upstream, connectTimeoutMs: number): Pool {
  return obtainPool(
    upstream,
    () =>
      new Pool(upstream.url.origin, {
        connect: {
          timeout: connectTimeoutMs,
          ...(upstream.ca === undefined ? {} : { ca: upstream.ca }),
        },
      }),
  );
}

/**
 * undici has the body's framing from the body itself: it refuses a
 * `transfer-encoding` header, and sends a body of unknown length chunked, as the
 * header set asks. Everything else is passed as built.
 */
function headersForUndici(headers: OutgoingHttpHeaders): UndiciHeaders {
  if (headers["transfer-encoding"] === undefined) return headers as UndiciHeaders;
  const { "transfer-encoding": _framing, ...rest } = headers;
  return rest as UndiciHeaders;
}

/**
 * A forwarder on undici's `Pool.stream()`: the upstream response streams straight
 * into the client response, under a head verigate writes itself. Same contract as
 * the http-proxy-3 forwarder: the request line and headers are verigate's own, the
 * body is streamed (a chunked one counted against its limit), every call has an
 * error path, `onFailure` runs at most once and only before a response byte was
 * sent, an upstream that dies mid-response closes the client connection, and a
 * client that leaves aborts the upstream request. WebSocket upgrades still go
 * through http-proxy-3.
 */
export function createUndiciForwarder(): Forwarder {
  const upgrades = createForwarder();

  return {
    web(req, res, request, onFailure) {
      const controller = new AbortController();
      let cause: AbortCause | "client-gone" | undefined;
      const abort = (why: AbortCause | "client-gone"): void => {
        cause ??= why;
        controller.abort(new Error(why));
      };
      let body: Readable | AsyncIterable<unknown> | null = null;
      if (req.headers["transfer-encoding"] !== undefined) {
        // A chunked body has no declared length to check first: it is counted as it streams.
        const limit = new BodyLimit(request.maxBodyBytes, () => {
          // The rest of the body is read and dropped, so the 413 can be answered.
          req.unpipe(limit);
          req.resume();
          abort("body-too-large");
        });
        // Handed over as an iterable, not a stream: undici would send a stream that already
        // ended with a Content-Length, and the header set says chunked.
        body = req.pipe(limit)[Symbol.asyncIterator]();
      } else if (req.headers["content-length"] !== undefined) {
        // Not `req` itself: undici destroys its body on failure, and the client must still get its answer.
        body = req.pipe(new PassThrough());
      }
      // A client that leaves before the response is complete aborts the upstream request.
      res.once("close", () => {
        if (!res.writableFinished) abort("client-gone");
      });
      // Gone while the request was being decided: nothing is sent upstream.
      if (res.destroyed) abort("client-gone");

      poolFor(request.upstream, request.connectTimeoutMs).stream(
        {
          path: joinUpstreamPath(request.upstream.url.pathname, request.target),
          method: req.method as Dispatcher.HttpMethod,
          headers: headersForUndici(request.headers),
          // undici documents (and reads) async iterables as bodies; its types list only streams.
          body: body as Readable | null,
          signal: controller.signal,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
        },
        ({ statusCode, headers }) => {
          res.writeHead(statusCode, buildResponseHeaders(headers));
          // undici pauses its body timer while the client reads slowly: bound a client
          // that stops reading (a slow-read attack holding the upstream connection) here.
          res.setTimeout(request.timeoutMs, () => res.destroy());
          return res;
        },
        (error: Error | null) => {
          if (error === null) return;
          if (res.headersSent || cause === "client-gone") {
            // Mid-response: the client must not take a cut-off body for a whole one.
            res.destroy();
            return;
          }
          const timeout = TIMEOUTS[codeOf(error) ?? ""];
          onFailure(classify(cause ?? timeout, error, request));
        },
      );
    },
    upgrade(req, socket, head, request, onFailure) {
      upgrades.upgrade(req, socket, head, request, onFailure);
    },
  };
}
