import { once } from "node:events";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { createAdminServer } from "./admin/admin-server.js";
import { GatewayMetrics } from "./audit/metrics.js";
import type { Logger } from "./audit/logger.js";
import type { ConfigProblem } from "./config/config-problem.js";
import type { Snapshot } from "./config/snapshot.js";
import { AttestationTokenAuthority } from "./claims/evidence/attestation-token-authority.js";
import { createPipeline } from "./pipeline.js";
import { createAssertionKeys } from "./proxy/assertion-keys.js";
import { createForwarder } from "./proxy/forward.js";
import { createUndiciForwarder } from "./proxy/undici-forwarder.js";
import { restartOnlyChanges, tlsSettingsChanged } from "./reload/restart-only.js";
import { SnapshotLeases } from "./reload/snapshot-leases.js";
import { createSharedState } from "./state/shared-state.js";
import { handshakenWithCurrentContext } from "./tls/current-trust.js";
import { listenerOptions, secureContextOptions } from "./tls/listener-options.js";

/** A running verigate: the mTLS proxy listener and the admin listener. */
export interface Gateway {
  /** The snapshot in force. */
  readonly snapshot: Snapshot;
  readonly metrics: GatewayMetrics;
  /**
   * Puts a newly compiled snapshot in force: requests that arrive from now on use
   * it, requests in flight finish under theirs. New TLS settings apply to new
   * connections; idle connections made under the old ones are closed, and a
   * request on a busy one gets 421. Returns the problems that keep it from
   * applying (restart-only settings that changed); nothing changes then.
   */
  apply(next: Snapshot): ConfigProblem[];
  /** Starts both listeners; resolves with the ports they got (useful with port 0). */
  listen(): Promise<{ port: number; adminPort: number }>;
  /** Stops accepting, lets in-flight requests finish for up to `drainMs`, then closes everything. */
  close(drainMs?: number): Promise<void>;
}

/** Test seams; production uses the real clock. */
export interface GatewayOptions {
  /** The clock, in milliseconds: real attestation vectors need a fixed "now". */
  readonly now?: () => number;
  /** The metrics the snapshot's token verifier already reports to (default: new ones). */
  readonly metrics?: GatewayMetrics;
  /** Whether this gateway serves the admin listener (default true; a cluster's primary serves it for its workers). */
  readonly serveAdmin?: boolean;
}

/** The HTTP limits of the proxy listener a reload can change on the running server. */
function applyServerLimits(server: HttpsServer, snapshot: Snapshot): void {
  server.maxConnections = snapshot.limits.maxConnections;
  // Keep every header field: Node would drop those past ~1000 silently; verigate refuses past maxHeaderCount.
  server.maxHeadersCount = 0;
  server.headersTimeout = snapshot.limits.headersTimeout;
  server.requestTimeout = snapshot.limits.requestTimeout;
  server.keepAliveTimeout = snapshot.limits.idleTimeout;
}

export function createGateway(
  snapshot: Snapshot,
  logger: Logger,
  options: GatewayOptions = {},
): Gateway {
  let current = snapshot;
  let listening = false;
  const now = options.now ?? Date.now;
  const leases = new SnapshotLeases();
  // The engine is restart-only: one forwarder for the process's life.
  const forwarder = current.proxy.engine === "undici" ? createUndiciForwarder() : createForwarder();
  // Nonces (and revocations) outlive config reloads: a client between challenge and token keeps its nonce.
  const shared = createSharedState(current.state, {
    nonceTtlMs: current.limits.nonceTtl,
    now,
    logger,
  });
  const authority = new AttestationTokenAuthority();
  const metrics = options.metrics ?? new GatewayMetrics();
  metrics.configInForce(current.revision, now());
  // One key set per process, made from the first snapshot: a reload does not change keys.
  const assertionKeys = createAssertionKeys({
    ...(current.assertion.keyPem === undefined ? {} : { keyPem: current.assertion.keyPem }),
    ...(current.assertion.rotateEveryMs === undefined
      ? {}
      : { rotateEveryMs: current.assertion.rotateEveryMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const pipeline = createPipeline({
    isCurrentConnection: (socket: TLSSocket) => handshakenWithCurrentContext(socket, proxyServer),
    forwarder,
    logger,
    nonces: shared.nonces,
    ...(shared.revocations === undefined ? {} : { revocations: shared.revocations }),
    authority,
    assertionKeys,
    metrics,
    now,
  });

  const proxyServer: HttpsServer = createServer(listenerOptions(current));
  applyServerLimits(proxyServer, current);
  let inFlight = 0;
  /** Per connection: the requests it carried, and its unfinished responses. */
  const connections = new WeakMap<Socket, { requests: number; open: Set<ServerResponse> }>();
  /** Whether a response has started on a connection: nothing else may be written into it. */
  const responding = (socket: Socket): boolean =>
    [...(connections.get(socket)?.open ?? [])].some((res) => res.headersSent);
  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const leased = current;
    const { maxInFlight, maxRequestsPerConnection } = leased.limits;
    let connection = connections.get(req.socket);
    if (connection === undefined) {
      connection = { requests: 0, open: new Set() };
      connections.set(req.socket, connection);
    }
    // The last request a connection may carry: Node answers it with `Connection: close`.
    if (++connection.requests >= maxRequestsPerConnection) res.shouldKeepAlive = false;
    // Shedding is cheap, so an overloaded verigate still answers, and its admin port too.
    if (inFlight >= maxInFlight) {
      pipeline.refuse(req, res, leased, "overloaded");
      return;
    }
    inFlight++;
    leases.acquire(leased);
    const { open } = connection;
    open.add(res);
    res.once("close", () => {
      inFlight--;
      leases.release(leased);
      open.delete(res);
    });
    pipeline.handleRequest(req, res, leased);
  }
  proxyServer.on("request", onRequest);
  // Without this listener Node answers `Expect: 100-continue` itself, before verigate has decided.
  proxyServer.on("checkContinue", onRequest);
  // Upgraded connections leave the HTTP server's bookkeeping: track them to close them on drain.
  const upgraded = new Set<Duplex>();
  proxyServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const leased = current;
    leases.acquire(leased);
    upgraded.add(socket);
    socket.once("close", () => {
      upgraded.delete(socket);
      leases.release(leased);
    });
    pipeline.handleUpgrade(req, socket, head, leased);
  });
  proxyServer.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) =>
    pipeline.refuseUnparsed(socket, current, error, responding(socket)),
  );
  proxyServer.on("drop", (data?: { remoteAddress?: string }) => {
    logger.warn(
      { sourceIp: data?.remoteAddress, maxConnections: current.limits.maxConnections },
      "connection refused: limits.maxConnections reached",
    );
  });
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
    metrics,
    apply(next) {
      const problems = restartOnlyChanges(current, next);
      if (problems.length > 0) return problems;
      const newTls = tlsSettingsChanged(current, next);
      if (newTls) {
        try {
          proxyServer.setSecureContext(secureContextOptions(next));
        } catch (error: unknown) {
          return [{ path: "tls", message: `not usable: ${(error as Error).message}` }];
        }
      }
      const previous = current;
      current = next;
      applyServerLimits(proxyServer, next);
      metrics.configInForce(next.revision, now());
      // Kept-alive connections verified under the old TLS settings must not go on: close the idle ones.
      if (newTls) proxyServer.closeIdleConnections();
      leases.retire(previous);
      return [];
    },
    async listen() {
      // The revocation list is read before the first request can arrive.
      await shared.start();
      const port = await listenOn(proxyServer, current.listen.address, current.listen.port);
      const adminPort =
        options.serveAdmin === false
          ? 0
          : await listenOn(adminServer, current.admin.address, current.admin.port);
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
      leases.closeAll(current);
      await shared.close();
    },
  };
}
