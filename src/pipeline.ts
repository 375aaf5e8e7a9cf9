import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { summarizeTrace, writeAuditLine, type AuditRecord } from "./audit/audit-record.js";
import type { Logger } from "./audit/logger.js";
import type { Claims, IdentityClaims } from "./claims/claims.js";
import { identifyConnection } from "./claims/connection-identity.js";
import type { CompiledRoute, Snapshot } from "./config/snapshot.js";
import { REASONS, statusForReasons, type ReasonCode } from "./policy/reasons.js";
import { canonicalizeTarget } from "./proxy/canonical-path.js";
import type { ForwardFailure, Forwarder, ForwardRequest } from "./proxy/forward.js";
import { canonicalizeHost } from "./proxy/host.js";
import { buildOutgoingHeaders } from "./proxy/outgoing-headers.js";
import { sendDeny, sendDenyOnSocket, type DenyResponse } from "./respond/deny-response.js";

/**
 * The request path, top to bottom:
 *   canonical target and host -> route -> verified identity -> policy -> forward or deny -> audit.
 * Fails closed: an exception anywhere before forwarding denies the request
 * (`evaluation-error`) and is logged once, here.
 */

interface Verdict {
  readonly effect: "allow" | "deny";
  readonly reasons: readonly ReasonCode[];
  readonly route: CompiledRoute | undefined;
  readonly rule?: string;
  readonly detail?: string | readonly string[];
  readonly identity: IdentityClaims;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  /** Path and query to forward: exactly what was authorized. */
  readonly target: string;
  readonly sourceIp: string;
}

export interface PipelineDeps {
  /** The snapshot in force; read once per request, which then uses it to its end. */
  readonly snapshot: () => Snapshot;
  readonly forwarder: Forwarder;
  readonly logger: Logger;
}

export interface Pipeline {
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

const NO_IDENTITY: IdentityClaims = Object.freeze({ source: "none" });

function sourceIpOf(socket: TLSSocket): string {
  const address = socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** Decides one request. Pure apart from reading the TLS connection's verified peer. */
function decide(snapshot: Snapshot, req: IncomingMessage): Verdict {
  const socket = req.socket as TLSSocket;
  const method = req.method ?? "";
  const base = {
    method,
    host: "",
    path: "",
    target: "",
    sourceIp: sourceIpOf(socket),
    identity: NO_IDENTITY,
    route: undefined,
  };
  const deny = (reasons: ReasonCode[], rest: Partial<Verdict>): Verdict => ({
    ...base,
    ...rest,
    effect: "deny",
    reasons,
  });

  const target = canonicalizeTarget(req.url ?? "");
  if (!target.ok) return deny(["malformed-request"], { detail: target.problem });
  const host = canonicalizeHost(req.headers.host);
  if (!host.ok) return deny(["malformed-request"], { detail: host.problem, path: target.path });
  const seen = {
    host: host.host,
    path: target.path,
    target: target.query === "" ? target.path : `${target.path}?${target.query}`,
  };

  const connection = identifyConnection(socket, { allowMissingEku: snapshot.tls.allowMissingEku });
  const identity = connection.identity;
  const route = snapshot.routeTable.lookup(host.host, target.path);
  if (route === undefined) return deny(["no-route"], { ...seen, identity });

  if (route.identity === "required" && identity.source === "none") {
    const problem = connection.problem;
    return deny([problem?.reason ?? "identity-required"], {
      ...seen,
      identity,
      route,
      detail: problem?.detail ?? "",
    });
  }

  const claims: Claims = {
    identity,
    request: {
      method,
      path: target.path,
      host: host.host,
      sourceIp: base.sourceIp,
      time: Date.now(),
    },
  };
  const decision = route.policy.evaluate(claims);
  const rule = decision.rule === undefined ? {} : { rule: decision.rule };
  if (decision.effect === "allow") {
    return {
      ...base,
      ...seen,
      ...rule,
      identity,
      route,
      effect: "allow",
      reasons: decision.reasons,
    };
  }
  return deny([...decision.reasons], {
    ...seen,
    ...rule,
    identity,
    route,
    detail: summarizeTrace(decision),
  });
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { forwarder, logger } = deps;

  function audit(
    snapshot: Snapshot,
    verdict: Verdict,
    requestId: string,
    started: number,
    extra: Partial<AuditRecord>,
  ): void {
    writeAuditLine(logger, {
      requestId,
      revision: snapshot.revision,
      route: verdict.route?.name ?? "",
      decision: verdict.effect,
      reasons: verdict.reasons,
      status: statusForReasons(verdict.reasons),
      method: verdict.method,
      host: verdict.host,
      path: verdict.path,
      sourceIp: verdict.sourceIp,
      identity: verdict.identity,
      latencyMs: performance.now() - started,
      ...(verdict.rule === undefined ? {} : { rule: verdict.rule }),
      ...(verdict.detail === undefined ? {} : { detail: verdict.detail }),
      ...extra,
    });
  }

  /** Decides, and turns any exception into a logged, fail-closed deny. */
  function safeDecide(snapshot: Snapshot, req: IncomingMessage, requestId: string): Verdict {
    try {
      return decide(snapshot, req);
    } catch (error: unknown) {
      logger.error({ err: error, requestId }, "evaluation failed; request denied");
      const socket = req.socket as TLSSocket;
      return {
        effect: "deny",
        reasons: ["evaluation-error"],
        route: undefined,
        identity: NO_IDENTITY,
        method: req.method ?? "",
        host: "",
        path: "",
        target: "",
        sourceIp: sourceIpOf(socket),
      };
    }
  }

  /** What goes upstream: the authorized target and the built header set. */
  function forwardRequest(
    snapshot: Snapshot,
    req: IncomingMessage,
    verdict: Verdict,
    route: CompiledRoute,
    requestId: string,
    isUpgrade: boolean,
  ): ForwardRequest {
    return {
      upstream: route.upstream,
      target: verdict.target,
      timeoutMs: snapshot.limits.upstreamTimeout,
      headers: buildOutgoingHeaders(req.headers, {
        host: route.preserveHost ? (req.headers.host ?? verdict.host) : route.upstream.host,
        clientHost: req.headers.host ?? verdict.host,
        clientIp: verdict.sourceIp,
        requestId,
        isUpgrade,
      }),
    };
  }

  return {
    handleRequest(req, res) {
      const started = performance.now();
      const requestId = randomUUID();
      const snapshot = deps.snapshot();
      const verdict = safeDecide(snapshot, req, requestId);
      const accept = req.headers.accept;
      const route = verdict.route;

      if (verdict.effect === "deny" || route === undefined) {
        sendDeny(res, refusal(verdict.reasons, requestId), accept);
        audit(snapshot, verdict, requestId, started, {});
        return;
      }

      res.setHeader("x-request-id", requestId);
      let failure: ForwardFailure | undefined;
      // The audit line waits for the end of the exchange, to record how it really ended.
      res.once("close", () => {
        const reasons =
          failure === undefined ? verdict.reasons : [...verdict.reasons, failureReason(failure)];
        const detail =
          failure?.detail ??
          (res.writableFinished ? undefined : "connection closed before the response completed");
        audit(snapshot, { ...verdict, reasons }, requestId, started, {
          status: res.statusCode,
          ...(detail === undefined ? {} : { detail }),
        });
      });
      // The client asked before sending its body: answer 100 only now that it is allowed.
      if (req.headers.expect?.toLowerCase() === "100-continue") res.writeContinue();
      const request = forwardRequest(snapshot, req, verdict, route, requestId, false);
      forwarder.web(req, res, request, (why) => {
        failure = why;
        sendDeny(res, refusal([failureReason(why)], requestId), accept);
      });
    },

    handleUpgrade(req, socket, head) {
      const started = performance.now();
      const requestId = randomUUID();
      const snapshot = deps.snapshot();
      let verdict = safeDecide(snapshot, req, requestId);
      if (verdict.effect === "allow" && req.headers.upgrade?.toLowerCase() !== "websocket") {
        verdict = {
          ...verdict,
          effect: "deny",
          reasons: ["malformed-request"],
          detail: "only WebSocket upgrades are proxied",
        };
      }
      const route = verdict.route;
      if (verdict.effect === "deny" || route === undefined) {
        sendDenyOnSocket(socket, refusal(verdict.reasons, requestId));
        audit(snapshot, verdict, requestId, started, { upgrade: true });
        return;
      }
      const request = forwardRequest(snapshot, req, verdict, route, requestId, true);
      audit(snapshot, verdict, requestId, started, { upgrade: true, status: 101 });
      forwarder.upgrade(req, socket, head, request, (why) => {
        logger.warn(
          { requestId, route: route.name, reason: failureReason(why), detail: why.detail },
          "upgrade forwarding failed",
        );
      });
    },
  };
}

/** What a refused client is told: the status and fixed category of the deciding reason, and the request id. */
function refusal(reasons: readonly ReasonCode[], requestId: string): DenyResponse {
  const category = REASONS[reasons[0] ?? "evaluation-error"].category;
  return { status: statusForReasons(reasons), category, requestId };
}

function failureReason(failure: ForwardFailure): ReasonCode {
  return failure.kind === "timeout" ? "upstream-timeout" : "upstream-unreachable";
}
