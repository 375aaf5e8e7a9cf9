import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import { PassThrough, type Readable } from "node:stream";
import { Pool, type Dispatcher } from "undici";
import { BodyLimit } from "./body-limit.js";
import {
  classify,
  createForwarder,
  type AbortCause,
  type ForwardFailure,
  type Forwarder,
  type ForwardRequest,
} from "./forward.js";
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
 * Relays one upstream response into the client response, as undici parses it: the
 * head verigate writes itself, then the body chunk by chunk, pausing the upstream
 * while the client is slow to read. A dispatch handler of our own rather than
 * `Pool.stream()`, whose async-resource scope, abort signal and stream-finished
 * watch cost about a tenth of a forwarded request.
 */
class ResponseRelay implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse;
  readonly #request: ForwardRequest;
  readonly #onFailure: (failure: ForwardFailure) => void;
  /** The request body's stream, closed when the exchange fails. */
  body: PassThrough | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #cause: AbortCause | "client-gone" | undefined;

  constructor(
    res: ServerResponse,
    request: ForwardRequest,
    onFailure: (failure: ForwardFailure) => void,
  ) {
    this.#res = res;
    this.#request = request;
    this.#onFailure = onFailure;
  }

  /** Ends the upstream exchange for verigate's own reason (kept: the first one counts). */
  abort(why: AbortCause | "client-gone"): void {
    this.#cause ??= why;
    // Before the request is on a connection, undici gives no controller yet: onRequestStart aborts it.
    this.#controller?.abort(new Error(why));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#cause !== undefined) controller.abort(new Error(this.#cause));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    // 1xx heads are the hop's own (Node answers the client's 100-continue itself).
    if (statusCode < 200) return;
    const res = this.#res;
    res.writeHead(statusCode, buildResponseHeaders(headers));
    // undici pauses its body timer while the client reads slowly: bound a client
    // that stops reading (a slow-read attack holding the upstream connection) here.
    res.setTimeout(this.#request.timeoutMs, () => res.destroy());
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#res.write(chunk)) return;
    controller.pause();
    this.#res.once("drain", () => controller.resume());
  }

  onResponseEnd(): void {
    this.#res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.body?.destroy();
    const res = this.#res;
    if (res.headersSent || this.#cause === "client-gone") {
      // Mid-response: the client must not take a cut-off body for a whole one.
      res.destroy();
      return;
    }
    const timeout = TIMEOUTS[codeOf(error) ?? ""];
    this.#onFailure(classify(this.#cause ?? timeout, error, this.#request));
  }
}

/**
 * The body undici sends upstream: none, a declared length streamed as it comes, or
 * a chunked body counted against `maxBodyBytes` (over it, the exchange is aborted
 * and the rest of the body read and dropped, so that the 413 can be answered).
 */
function requestBody(
  req: IncomingMessage,
  maxBodyBytes: number,
  relay: ResponseRelay,
): Readable | AsyncIterable<unknown> | null {
  if (req.headers["transfer-encoding"] !== undefined) {
    const limit = new BodyLimit(maxBodyBytes, () => {
      req.unpipe(limit);
      req.resume();
      relay.abort("body-too-large");
    });
    // Handed over as an iterable, not a stream: undici would send a stream that already
    // ended with a Content-Length, and the header set says chunked.
    return req.pipe(limit)[Symbol.asyncIterator]();
  }
  if (req.headers["content-length"] === undefined) return null;
  // Not `req` itself: undici destroys its body on failure, and the client must still get its answer.
  relay.body = req.pipe(new PassThrough());
  return relay.body;
}

/**
 * A forwarder on undici's `Pool.dispatch()`: the upstream response streams straight
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
      const relay = new ResponseRelay(res, request, onFailure);
      const body = requestBody(req, request.maxBodyBytes, relay);
      // A client that leaves before the response is complete aborts the upstream request.
      res.once("close", () => {
        if (!res.writableFinished) relay.abort("client-gone");
      });
      // Gone while the request was being decided: nothing is sent upstream.
      if (res.destroyed) relay.abort("client-gone");

      poolFor(request.upstream, request.connectTimeoutMs).dispatch(
        {
          path: joinUpstreamPath(request.upstream.url.pathname, request.target),
          method: req.method as Dispatcher.HttpMethod,
          headers: headersForUndici(request.headers),
          // undici documents (and reads) async iterables as bodies; its types list only streams.
          body: body as Readable | null,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
        },
        relay,
      );
    },
    upgrade(req, socket, head, request, onFailure) {
      upgrades.upgrade(req, socket, head, request, onFailure);
    },
  };
}
