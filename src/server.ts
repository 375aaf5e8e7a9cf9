import { once } from "node:events";
import type { Server as HttpServer, IncomingMessage } from "node:http";
import { createServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createAdminServer } from "./admin/admin-server.js";
import { GatewayMetrics } from "./audit/metrics.js";
import type { Logger } from "./audit/logger.js";
import type { Snapshot } from "./config/snapshot.js";
import { AttestationTokenAuthority } from "./claims/evidence/attestation-token-authority.js";
import { createMemoryNonceStore } from "./claims/nonces/nonce-store.js";
import { createPipeline } from "./pipeline.js";
import { createAssertionKeys } from "./proxy/assertion-keys.js";
import { createForwarder } from "./proxy/forward.js";
import { listenerOptions } from "./tls/listener-options.js";

/** A running verigate: the mTLS proxy listener and the admin listener. */
export interface Gateway {
  /** The snapshot in force. */
  readonly snapshot: Snapshot;
  /** Starts both listeners; resolves with the ports they got (useful with port 0). */
  listen(): Promise<{ port: number; adminPort: number }>;
  /** Stops accepting, lets in-flight requests finish for up to `drainMs`, then closes everything. */
  close(drainMs?: number): Promise<void>;
}

/** Answers what Node's HTTP parser refused before verigate saw a request. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  const status =
    error.code === "HPE_HEADER_OVERFLOW"
      ? 431
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? 408
        : 400;
  logger.info(
    { status, code: error.code, sourceIp: socket.remoteAddress },
    "request refused by the HTTP parser",
  );
  if (socket.writable && !socket.destroyed) {
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request"}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
    );
  } else {
    socket.destroy();
  }
}

/** Test seams; production uses the real clock. */
export interface GatewayOptions {
  /** The clock, in milliseconds: real attestation vectors need a fixed "now". */
  readonly now?: () => number;
}

export function createGateway(
  snapshot: Snapshot,
  logger: Logger,
  options: GatewayOptions = {},
): Gateway {
  const current = snapshot;
  let listening = false;
  const forwarder = createForwarder();
  // Nonces outlive config reloads: a client between challenge and token keeps its nonce.
  const nonces = createMemoryNonceStore({
    ttlMs: current.limits.nonceTtl,
    now: options.now ?? Date.now,
  });
  const authority = new AttestationTokenAuthority();
  const metrics = new GatewayMetrics();
  // One key set per process, made from the first snapshot: a reload does not change keys.
  const assertionKeys = createAssertionKeys({
    ...(current.assertion.keyPem === undefined ? {} : { keyPem: current.assertion.keyPem }),
    ...(current.assertion.rotateEveryMs === undefined
      ? {}
      : { rotateEveryMs: current.assertion.rotateEveryMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const pipeline = createPipeline({
    snapshot: () => current,
    forwarder,
    logger,
    nonces,
    authority,
    assertionKeys,
    metrics,
    now: options.now ?? Date.now,
  });

  const proxyServer: HttpsServer = createServer(listenerOptions(current));
  proxyServer.maxConnections = current.limits.maxConnections;
  proxyServer.on("request", pipeline.handleRequest);
  // Without this listener Node answers `Expect: 100-continue` itself, before verigate has decided.
  proxyServer.on("checkContinue", pipeline.handleRequest);
  // Upgraded connections leave the HTTP server's bookkeeping: track them to close them on drain.
  const upgraded = new Set<Duplex>();
  proxyServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    pipeline.handleUpgrade(req, socket, head);
  });
  proxyServer.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(error, socket, logger),
  );
  proxyServer.on("tlsClientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    logger.info(
      { code: error.code, reason: error.message, sourceIp: socket.remoteAddress },
      "TLS handshake failed",
    );
  });

  const adminServer: HttpServer = createAdminServer({
    isReady: () => listening,
    revision: () => current.revision,
    metrics: () => metrics.render(),
  });

  async function listenOn(
    server: HttpServer | HttpsServer,
    address: string,
    port: number,
  ): Promise<number> {
    server.listen(port, address);
    await once(server, "listening");
    return (server.address() as AddressInfo).port;
  }

  return {
    get snapshot() {
      return current;
    },
    async listen() {
      const port = await listenOn(proxyServer, current.listen.address, current.listen.port);
      const adminPort = await listenOn(adminServer, current.admin.address, current.admin.port);
      listening = true;
      logger.info(
        { port, adminPort, revision: current.revision, routes: current.routes.length },
        "verigate listening",
      );
      return { port, adminPort };
    },
    async close(drainMs = 10_000) {
      listening = false;
      const closed = Promise.all([
        new Promise<void>((resolve) => proxyServer.close(() => resolve())),
        new Promise<void>((resolve) => adminServer.close(() => resolve())),
      ]);
      proxyServer.closeIdleConnections();
      adminServer.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of upgraded) socket.destroy();
        proxyServer.closeAllConnections();
        adminServer.closeAllConnections();
      }, drainMs);
      await closed;
      clearTimeout(timer);
      for (const route of current.routes) route.upstream.agent.destroy();
    },
  };
}
