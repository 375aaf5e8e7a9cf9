import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import {
  decisionInput,
  summarizeTrace,
  writeAuditLine,
  type AuditRecord,
} from "./audit/audit-record.js";
import type { Logger } from "./audit/logger.js";
import type { GatewayMetrics } from "./audit/metrics.js";
import { buildClaims, type ConnectionFacts } from "./claims/build-claims.js";
import { applyRevocations, type RevocationLookup } from "./claims/certificate-revocation.js";
import type { Claims, IdentityClaims } from "./claims/claims.js";
import { connectionClaims } from "./claims/connection-claims.js";
import type { AttestationTokenAuthority } from "./claims/evidence/attestation-token-authority.js";
import type { NonceStore } from "./claims/nonces/nonce-store.js";
import type { CompiledRoute, Snapshot } from "./config/snapshot.js";
import type { Decision } from "./policy/decision.js";
import { REASONS, statusForReasons, type ReasonCode } from "./policy/reasons.js";
import { canonicalizeTarget } from "./proxy/canonical-path.js";
import { chooseRoute } from "./proxy/choose-route.js";
import type { ForwardFailure, Forwarder, ForwardRequest } from "./proxy/forward.js";
import { canonicalizeHost } from "./proxy/host.js";
import { checkHostMatchesSni, checkRequestHead } from "./proxy/request-hygiene.js";
import type { AssertionKeys } from "./proxy/assertion-keys.js";
import { buildOutgoingHeaders } from "./proxy/outgoing-headers.js";
import { AssertionSigner } from "./proxy/assertion-reuse.js";
import { ASSERTION_HEADER } from "./proxy/upstream-assertion.js";
import { sendDeny, sendDenyOnSocket, type DenyResponse } from "./respond/deny-response.js";
import { isSharedStateUnavailable } from "./state/shared-state-unavailable.js";
import { ATTEST_PATH, serveAttest } from "./well-known/attest-endpoint.js";
import { JWKS_PATH, serveJwks } from "./well-known/jwks-endpoint.js";
import {
  NONCE_PATH,
  serveNonce,
  serveUnknownEndpoint,
  WELL_KNOWN_PREFIX,
} from "./well-known/nonce-endpoint.js";

/**
 * The request path, top to bottom:
 *   canonical target and host -> verigate's own endpoints -> route -> claims
 *   (certificate, then signed tokens) -> identity gate -> policy -> forward or deny -> audit.
 * Fails closed: an exception anywhere before forwarding denies the request
 * (`evaluation-error`) and is logged once, here.
 */

interface Verdict {
  readonly effect: "allow" | "deny";
  readonly reasons: readonly ReasonCode[];
  readonly route: CompiledRoute | undefined;
  readonly rule?: string;
  readonly detail?: string | readonly string[];
  readonly claims: Claims;
  /** A request for verigate's own endpoint under /.well-known/verigate/. */
  readonly isEndpoint: boolean;
  readonly host: string;
  /** Path and query to forward: exactly what was authorized. */
  readonly target: string;
  /** Token headers verigate consumed: never forwarded. */
  readonly consumedHeaders: readonly string[];
  /** What the TLS connection proved (for verigate's own endpoints). */
  readonly connection?: ConnectionFacts;
  /** Audit mode: the route would have denied this request; it was forwarded. */
  readonly wouldDeny?: boolean;
  /** The route's candidate policy's decision, logged beside the live one. */
  readonly candidate?: {
    readonly decision: "allow" | "deny";
    readonly reasons: readonly ReasonCode[];
    readonly rule?: string;
  };
  readonly notes: readonly string[];
  /** The route table or a route's identity gate and policy decided: the audit line records their input. */
  readonly replayable?: boolean;
}

export interface PipelineDeps {
  /** Whether a connection was handshaken under the TLS settings in force (false after a reload changed them). */
  readonly isCurrentConnection: (socket: TLSSocket) => boolean;
  readonly forwarder: Forwarder;
  readonly logger: Logger;
  readonly nonces: NonceStore;
  /** Fingerprints revoked by `verigate revoke` (state.redis only). */
  readonly revocations?: RevocationLookup;
  /** Prometheus metrics, served on the admin listener. */
  readonly metrics: GatewayMetrics;
  /** Signs the upstream assertion; its public keys are served at /.well-known/verigate/jwks.json. */
  readonly assertionKeys: AssertionKeys;
  /** Signs and verifies verigate's own attestation tokens (POST /.well-known/verigate/attest). */
  readonly authority: AttestationTokenAuthority;
  /** The clock, in milliseconds (injected so tests can move it). */
  readonly now: () => number;
}

/** Each request is handled with the snapshot in force when it arrived, to its end. */
export interface Pipeline {
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse, snapshot: Snapshot) => void;
  readonly handleUpgrade: (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    snapshot: Snapshot,
  ) => void;
  /** Refuses a request without deciding it (load shedding), with its audit line. */
  readonly refuse: (
    req: IncomingMessage,
    res: ServerResponse,
    snapshot: Snapshot,
    reason: ReasonCode,
  ) => void;
  /**
   * Answers what Node's HTTP parser refused before a request existed, with an audit
   * line; `responding` says a response has started on the connection.
   */
  readonly refuseUnparsed: (
    socket: Socket,
    snapshot: Snapshot,
    error: NodeJS.ErrnoException,
    responding: boolean,
  ) => void;
}

const NO_IDENTITY: IdentityClaims = Object.freeze({ source: "none" });

/** Parser errors that are a TLS failure or a client gone mid-request, not a request to refuse. */
const CLIENT_GONE = /^(ERR_(TLS|SSL)_|ECONNRESET$|EPIPE$|HPE_INVALID_EOF_STATE$)/;

function sourceIpOf(socket: TLSSocket): string {
  const address = socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** Decides one request: reads the TLS connection's verified peer and verifies tokens, does nothing else. */
async function decide(
  snapshot: Snapshot,
  req: IncomingMessage,
  deps: PipelineDeps,
): Promise<Verdict> {
  const socket = req.socket as TLSSocket;
  const now = deps.now();
  const request = {
    method: req.method ?? "",
    path: "",
    host: "",
    sourceIp: sourceIpOf(socket),
    time: now,
  };
  let verdict: Verdict = {
    effect: "deny",
    reasons: [],
    route: undefined,
    claims: { identity: NO_IDENTITY, request },
    isEndpoint: false,
    host: "",
    target: "",
    consumedHeaders: [],
    notes: [],
  };
  const deny = (reasons: ReasonCode[], rest: Partial<Verdict> = {}): Verdict => ({
    ...verdict,
    ...rest,
    effect: "deny",
    reasons,
  });

  if (!deps.isCurrentConnection(socket))
    return deny(["tls-settings-changed"], { detail: "connection predates a TLS reload" });
  const head = checkRequestHead(req, snapshot.limits.maxHeaderCount, snapshot.singletonHeaders);
  if (head !== undefined) return deny([head.reason], { detail: head.detail });
  const target = canonicalizeTarget(req.url ?? "");
  if (!target.ok) return deny(["malformed-request"], { detail: target.problem });
  const host = canonicalizeHost(req.headers.host);
  if (!host.ok) return deny(["malformed-request"], { detail: host.problem });
  const misdirected = checkHostMatchesSni(host.host, socket.servername);
  if (misdirected !== undefined)
    return deny([misdirected.reason], { detail: misdirected.detail, host: host.host });
  const requestClaims = { ...request, path: target.path, host: host.host };
  verdict = {
    ...verdict,
    claims: { identity: NO_IDENTITY, request: requestClaims },
    host: host.host,
    target: target.query === "" ? target.path : `${target.path}?${target.query}`,
  };
  const verified = await connectionClaims(
    socket,
    {
      revision: snapshot.revision,
      allowMissingEku: snapshot.tls.allowMissingEku,
      vouching: snapshot.issuers.vouching,
      evidence: snapshot.issuers.evidence,
    },
    now,
  );
  const connection = applyRevocations(verified, deps.revocations);
  if (connection === "unavailable") {
    return deny(["shared-state-unavailable"], {
      detail: "the revocation list has not been read from Redis recently enough to trust",
    });
  }
  verdict = {
    ...verdict,
    claims: { identity: connection.identity, request: requestClaims },
    notes: connection.notes,
  };
  if (target.path.startsWith(WELL_KNOWN_PREFIX)) {
    return {
      ...verdict,
      effect: "allow",
      reasons: ["served-by-verigate"],
      isEndpoint: true,
      connection,
    };
  }
  const choice = chooseRoute(snapshot.routeTable, host.host, target.path);
  if ("problem" in choice) return deny(["malformed-request"], { detail: choice.problem });
  const route = choice.route;
  if (route === undefined) return deny(["no-route"], { replayable: true });
  verdict = { ...verdict, route };
  // A declared body too large is refused before any token is verified; a chunked one is counted as it streams.
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > route.maxBodyBytes) {
    return deny(["body-too-large"], {
      detail: `content-length ${declared} over the route's ${route.maxBodyBytes}`,
    });
  }

  const sources = {
    issuers: snapshot.issuers.tokens,
    verifier: snapshot.tokens,
    nonces: deps.nonces,
    evidence: snapshot.issuers.evidence,
    evidenceCache: snapshot.evidenceCache,
    authority: deps.authority,
  };
  let built: Awaited<ReturnType<typeof buildClaims>>;
  try {
    built = await buildClaims(req.headers, connection, requestClaims, sources, now);
  } catch (error: unknown) {
    // Fails closed: a nonce that cannot be redeemed is not taken as valid.
    if (!isSharedStateUnavailable(error)) throw error;
    return deny(["shared-state-unavailable"], { detail: error.message });
  }
  if (!built.ok) return deny([built.reason], { detail: built.detail });
  verdict = {
    ...verdict,
    claims: built.claims,
    consumedHeaders: built.consumedHeaders,
    notes: built.notes,
  };

  // A candidate policy is decided beside the live one, logged, never enforced.
  const candidate = route.candidate?.evaluate(built.claims);
  if (candidate !== undefined) {
    verdict = {
      ...verdict,
      candidate: { decision: candidate.effect, reasons: candidate.reasons, ...ruleOf(candidate) },
    };
  }
  const live = liveDecision(verdict, route, built.claims, connection.problem);
  return inMode(route, { ...live, replayable: true });
}

function ruleOf(decision: Decision): { rule?: string } {
  return decision.rule === undefined ? {} : { rule: decision.rule };
}

/** The route's own requirements: the identity gate, then the policy. */
function liveDecision(
  verdict: Verdict,
  route: CompiledRoute,
  claims: Claims,
  problem: { readonly reason: ReasonCode; readonly detail: string } | undefined,
): Verdict {
  if (route.identity === "required" && claims.identity.source === "none") {
    return {
      ...verdict,
      effect: "deny",
      reasons: [problem?.reason ?? "identity-required"],
      detail: problem?.detail ?? "",
    };
  }
  const decision = route.policy.evaluate(claims);
  if (decision.effect === "allow")
    return { ...verdict, ...ruleOf(decision), effect: "allow", reasons: decision.reasons };
  return {
    ...verdict,
    ...ruleOf(decision),
    effect: "deny",
    reasons: decision.reasons,
    detail: summarizeTrace(decision),
  };
}

/**
 * Shadow mode: on an `audit` route, what the route's identity gate or policy would
 * deny is forwarded and logged as `wouldDeny`. Only those: a malformed request, an
 * unknown route or an invalid credential was refused before this point, whatever
 * the mode.
 */
function inMode(route: CompiledRoute, verdict: Verdict): Verdict {
  if (route.mode !== "audit" || verdict.effect === "allow") return verdict;
  return { ...verdict, effect: "allow", wouldDeny: true };
}

/** What a refused client is told: the status and fixed category of the deciding reason, and the request id. */
function refusal(reasons: readonly ReasonCode[], requestId: string): DenyResponse {
  const category = REASONS[reasons[0] ?? "evaluation-error"].category;
  return { status: statusForReasons(reasons), category, requestId };
}

const FAILURE_REASONS: Readonly<Record<ForwardFailure["kind"], ReasonCode>> = {
  timeout: "upstream-timeout",
  unreachable: "upstream-unreachable",
  "body-too-large": "body-too-large",
};

function failureReason(failure: ForwardFailure): ReasonCode {
  return FAILURE_REASONS[failure.kind];
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { forwarder, logger } = deps;
  const assertions = new AssertionSigner(deps.assertionKeys);

  function audit(
    snapshot: Snapshot,
    verdict: Verdict,
    requestId: string,
    started: number,
    extra: Partial<AuditRecord>,
  ): void {
    const { claims } = verdict;
    writeAuditLine(logger, {
      requestId,
      revision: snapshot.revision,
      route: verdict.route?.name ?? "",
      decision: verdict.effect,
      reasons: verdict.reasons,
      status: statusForReasons(verdict.reasons),
      method: claims.request.method,
      host: verdict.host,
      path: claims.request.path,
      sourceIp: claims.request.sourceIp,
      identity: claims.identity,
      ...(claims.device === undefined ? {} : { device: claims.device }),
      ...(claims.tee === undefined ? {} : { tee: claims.tee }),
      latencyMs: performance.now() - started,
      ...(verdict.rule === undefined ? {} : { rule: verdict.rule }),
      ...(verdict.detail === undefined ? {} : { detail: verdict.detail }),
      ...(verdict.notes.length === 0 ? {} : { notes: verdict.notes }),
      ...(verdict.wouldDeny === true ? { wouldDeny: true } : {}),
      ...(verdict.candidate === undefined ? {} : { candidate: verdict.candidate }),
      ...(verdict.replayable === true ? { input: decisionInput(claims) } : {}),
      ...extra,
    });
    const route = verdict.route?.name ?? "";
    deps.metrics.decisions.inc({
      route,
      decision: verdict.effect,
      reason: verdict.reasons[0] ?? "",
    });
    deps.metrics.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
    if (verdict.wouldDeny === true) deps.metrics.wouldDeny.inc({ route });
  }

  /** Decides, and turns any exception into a logged, fail-closed deny. */
  async function safeDecide(
    snapshot: Snapshot,
    req: IncomingMessage,
    requestId: string,
  ): Promise<Verdict> {
    const started = performance.now();
    try {
      return await decide(snapshot, req, deps);
    } catch (error: unknown) {
      logger.error({ err: error, requestId }, "evaluation failed; request denied");
      return undecided(
        ["evaluation-error"],
        sourceIpOf(req.socket as TLSSocket),
        req.method ?? "",
        "unexpected error (logged once)",
      );
    } finally {
      deps.metrics.decisionSeconds.observe((performance.now() - started) / 1000);
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
    const headers = buildOutgoingHeaders(req.headers, {
      host: route.preserveHost ? (req.headers.host ?? verdict.host) : route.upstream.host,
      clientHost: req.headers.host ?? verdict.host,
      clientIp: verdict.claims.request.sourceIp,
      requestId,
      isUpgrade,
      consumed: verdict.consumedHeaders.filter((name) => !route.passHeaders.has(name)),
    });
    // Set after the client's x-verigate-* headers were dropped: only verigate's own reaches the upstream.
    headers[ASSERTION_HEADER] = assertions.sign(
      {
        route: route.name,
        requestId,
        revision: snapshot.revision,
        claims: verdict.claims,
        ...(snapshot.assertion.issuer === undefined ? {} : { issuer: snapshot.assertion.issuer }),
      },
      deps.now(),
      snapshot.assertion.reuseForMs,
    );
    return {
      upstream: route.upstream,
      target: verdict.target,
      timeoutMs: snapshot.limits.upstreamTimeout,
      connectTimeoutMs: snapshot.limits.upstreamConnectTimeout,
      maxBodyBytes: route.maxBodyBytes,
      headers,
    };
  }

  /** verigate's own endpoints under /.well-known/verigate/: never routed, always audited. */
  async function serveEndpoint(
    snapshot: Snapshot,
    req: IncomingMessage,
    res: ServerResponse,
    verdict: Verdict,
    requestId: string,
    started: number,
  ): Promise<void> {
    const path = verdict.claims.request.path;
    if (path === ATTEST_PATH && verdict.connection !== undefined) {
      const outcome = await serveAttest(req, res, {
        connection: verdict.connection,
        evidence: snapshot.issuers.evidence,
        evidenceCache: snapshot.evidenceCache,
        nonces: deps.nonces,
        authority: deps.authority,
        now: deps.now(),
        requestId,
      });
      const claims =
        outcome.tee === undefined ? verdict.claims : { ...verdict.claims, tee: outcome.tee };
      const effect = outcome.status === 200 ? "allow" : "deny";
      audit(
        snapshot,
        { ...verdict, effect, reasons: outcome.reasons, claims },
        requestId,
        started,
        {
          status: outcome.status,
          ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
        },
      );
      return;
    }
    if (path === JWKS_PATH) {
      audit(snapshot, verdict, requestId, started, {
        status: serveJwks(req, res, deps.assertionKeys, requestId),
      });
      return;
    }
    const status =
      path === NONCE_PATH
        ? await serveNonce(req, res, deps.nonces, requestId)
        : serveUnknownEndpoint(res, requestId);
    audit(snapshot, verdict, requestId, started, { status });
  }

  async function handleRequest(
    req: IncomingMessage,
    res: ServerResponse,
    snapshot: Snapshot,
  ): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const verdict = await safeDecide(snapshot, req, requestId);
    const accept = req.headers.accept;
    const route = verdict.route;

    if (verdict.isEndpoint && verdict.effect === "allow") {
      try {
        await serveEndpoint(snapshot, req, res, verdict, requestId, started);
      } catch (error: unknown) {
        // Fails closed: no nonce is handed out or redeemed without Redis.
        if (!isSharedStateUnavailable(error) || res.headersSent) throw error;
        const reasons: ReasonCode[] = ["shared-state-unavailable"];
        sendDeny(res, refusal(reasons, requestId), accept);
        audit(
          snapshot,
          { ...verdict, effect: "deny", reasons, detail: error.message },
          requestId,
          started,
          {},
        );
      }
      return;
    }
    if (verdict.effect === "deny" || route === undefined) {
      sendDeny(res, refusal(verdict.reasons, requestId), accept);
      audit(snapshot, verdict, requestId, started, {});
      return;
    }

    // Fails closed: a request the assertion cannot be signed for is not forwarded.
    const request = forwardRequest(snapshot, req, verdict, route, requestId, false);
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
        // nginx's 499: the client closed the connection before any response was sent.
        status: res.headersSent ? res.statusCode : 499,
        ...(detail === undefined ? {} : { detail }),
      });
    });
    // The client asked before sending its body: answer 100 only now that it is allowed.
    if (req.headers.expect?.toLowerCase() === "100-continue") res.writeContinue();
    forwarder.web(req, res, request, (why) => {
      failure = why;
      if (why.kind !== "body-too-large")
        deps.metrics.upstreamFailures.inc({ route: route.name, reason: failureReason(why) });
      sendDeny(res, refusal([failureReason(why)], requestId), accept);
    });
  }

  async function handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    snapshot: Snapshot,
  ): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    let verdict = await safeDecide(snapshot, req, requestId);
    if (
      verdict.effect === "allow" &&
      (verdict.isEndpoint || req.headers.upgrade?.toLowerCase() !== "websocket")
    ) {
      verdict = {
        ...verdict,
        effect: "deny",
        reasons: ["malformed-request"],
        detail: "only WebSocket upgrades to routes are proxied",
        replayable: false,
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
  }

  /** A verdict for a request refused before it was decided. */
  function undecided(
    reasons: ReasonCode[],
    sourceIp: string,
    method: string,
    detail: string,
  ): Verdict {
    return {
      effect: "deny",
      reasons,
      route: undefined,
      claims: {
        identity: NO_IDENTITY,
        request: { method, path: "", host: "", sourceIp, time: deps.now() },
      },
      isEndpoint: false,
      host: "",
      target: "",
      consumedHeaders: [],
      notes: [],
      detail,
    };
  }

  function refuse(
    req: IncomingMessage,
    res: ServerResponse,
    snapshot: Snapshot,
    reason: ReasonCode,
  ): void {
    const started = performance.now();
    const requestId = randomUUID();
    const verdict = undecided([reason], sourceIpOf(req.socket as TLSSocket), req.method ?? "", "");
    sendDeny(res, refusal([reason], requestId), req.headers.accept);
    audit(snapshot, verdict, requestId, started, {});
  }

  function refuseUnparsed(
    socket: Socket,
    snapshot: Snapshot,
    error: NodeJS.ErrnoException,
    responding: boolean,
  ): void {
    // Not a request to refuse: a TLS failure (its own log line has it), a client that
    // left mid-request (its request's audit line says so), or garbage after a request
    // whose response has started: a 400 written now would land inside that response.
    if (responding || CLIENT_GONE.test(error.code ?? "")) {
      socket.destroy();
      return;
    }
    const started = performance.now();
    const requestId = randomUUID();
    const reason: ReasonCode =
      error.code === "HPE_HEADER_OVERFLOW"
        ? "headers-too-large"
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "request-timeout"
          : "malformed-request";
    const verdict = undecided(
      [reason],
      sourceIpOf(socket as TLSSocket),
      "",
      `HTTP parser: ${error.code ?? error.message}`,
    );
    if (socket.writable && !socket.destroyed)
      sendDenyOnSocket(socket, refusal([reason], requestId));
    else socket.destroy();
    audit(snapshot, verdict, requestId, started, {});
  }

  // Node calls these handlers and ignores what they return: every error path is handled inside.
  return {
    refuse,
    refuseUnparsed,
    handleRequest: (req, res, snapshot) => {
      handleRequest(req, res, snapshot).catch((error: unknown) => {
        logger.error({ err: error }, "request handling failed");
        res.destroy();
      });
    },
    handleUpgrade: (req, socket, head, snapshot) => {
      handleUpgrade(req, socket, head, snapshot).catch((error: unknown) => {
        logger.error({ err: error }, "upgrade handling failed");
        socket.destroy();
      });
    },
  };
}
