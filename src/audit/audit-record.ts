import { pino, type DestinationStream, type Logger } from "pino";
import type { Claims, DeviceClaims, IdentityClaims, TeeClaims } from "../claims/claims.js";
import type { Decision } from "../policy/decision.js";
import type { ReasonCode } from "../policy/reasons.js";

/** Everything one audit line says about one decision. No secrets, no query strings, no header values. */
export interface AuditRecord {
  readonly requestId: string;
  readonly revision: string;
  readonly route: string;
  readonly decision: "allow" | "deny";
  readonly reasons: readonly ReasonCode[];
  readonly rule?: string;
  readonly status: number;
  readonly method: string;
  readonly host: string;
  /** The canonical path (without the query, which may hold secrets). */
  readonly path: string;
  readonly sourceIp: string;
  readonly identity: IdentityClaims;
  readonly device?: DeviceClaims;
  readonly tee?: TeeClaims;
  readonly latencyMs: number;
  readonly upgrade?: boolean;
  /** Why, in a few words: the OpenSSL code, the failing criteria, the upstream error. */
  readonly detail?: string | readonly string[];
  /** What verigate saw and set aside: certificate claims no issuer vouches for, and why. */
  readonly notes?: readonly string[];
  /** Audit mode: the route's policy or identity gate would have denied; the request was forwarded. */
  readonly wouldDeny?: boolean;
  /** What the route's decision was made from, for `verigate replay`; absent when no route decided. */
  readonly input?: DecisionInput;
  /** A candidate policy's decision, beside the live one. */
  readonly candidate?: {
    readonly decision: "allow" | "deny";
    readonly reasons: readonly ReasonCode[];
    readonly rule?: string;
  };
}

/**
 * The claims a route's identity gate and policy read, as `verigate replay` needs
 * them: every verified identity, device and TEE fact and the request's arrival
 * time (method, host, path and source address are in the line already). Raw
 * token claim sets (`device.claims`, `tee.claims`) are left out: they are large
 * and may carry nonces; a policy reading them is replayed without them.
 */
export interface DecisionInput {
  readonly identity: IdentityClaims;
  readonly device?: Omit<DeviceClaims, "claims">;
  readonly tee?: Omit<TeeClaims, "claims">;
  readonly time: number;
}

function withoutRawClaims<T extends { readonly claims?: unknown }>(facts: T): Omit<T, "claims"> {
  const { claims: _raw, ...rest } = facts;
  return rest;
}

/** The decision input of a claims document. */
export function decisionInput(claims: Claims): DecisionInput {
  return {
    identity: claims.identity,
    ...(claims.device === undefined ? {} : { device: withoutRawClaims(claims.device) }),
    ...(claims.tee === undefined ? {} : { tee: withoutRawClaims(claims.tee) }),
    time: claims.request.time,
  };
}

/**
 * Why a deny happened, compactly: the criteria of a matching deny rule that held
 * (`deny[0]: identity.commonName eq bob`), or of each allow rule those that failed
 * (`allow[0]: identity.groups has finance`).
 */
export function summarizeTrace(decision: Decision): string[] {
  return decision.ruleTrace.flatMap((rule) =>
    rule.criteria
      .filter((criterion) => criterion.holds === rule.matched)
      .map((criterion) => `${rule.rule}: ${criterion.criterion}`),
  );
}

/** Where a logger's lines go, and the fields its child bindings add to each. */
interface LineSink {
  readonly stream: DestinationStream;
  readonly bindings: Readonly<Record<string, unknown>>;
}

const sinks = new WeakMap<Logger, LineSink>();

function sinkOf(logger: Logger): LineSink {
  let sink = sinks.get(logger);
  if (sink === undefined) {
    const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
    if (stream === undefined) throw new TypeError("the logger has no destination stream");
    sink = { stream, bindings: logger.bindings() };
    sinks.set(logger, sink);
  }
  return sink;
}

/**
 * Writes the one audit line of a request: the JSON line `logger.info(fields, "decision")`
 * writes (level, ISO time, the logger's bindings, the fields, msg), straight to the
 * logger's destination. An AuditRecord holds vetted fields only (no header, token or
 * key), so pino's redaction pass and per-key serialization, a tenth of a forwarded
 * request's CPU, are left out here; every other log line keeps them.
 */
export function writeAuditLine(logger: Logger, record: AuditRecord): void {
  if (!logger.isLevelEnabled("info")) return;
  const { stream, bindings } = sinkOf(logger);
  const { identity, device, tee, latencyMs, ...rest } = record;
  const line = {
    level: "info",
    time: new Date().toISOString(),
    ...bindings,
    ...rest,
    latencyMs: Math.round(latencyMs * 1000) / 1000,
    subject: identity.subject,
    spiffeId: identity.spiffeId,
    certFingerprint: identity.certFingerprint,
    identitySource: identity.source,
    deviceId: device?.id,
    deviceIssuer: device?.issuer,
    teePlatform: tee?.platform,
    teeMeasurement: tee?.measurement,
    teeIssuer: tee?.issuer,
    msg: "decision",
  };
  let text: string;
  try {
    text = JSON.stringify(line);
  } catch {
    // Not JSON as it stands (a value no claim should hold): pino's safe serializer writes it.
    const { level: _level, time: _time, msg, ...fields } = line;
    logger.info(fields, msg);
    return;
  }
  stream.write(`${text}\n`);
}
