import type { Logger } from "pino";
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

/** Writes the one audit line of a request. */
export function writeAuditLine(logger: Logger, record: AuditRecord): void {
  const { identity, device, tee, ...rest } = record;
  logger.info(
    {
      ...rest,
      latencyMs: Math.round(record.latencyMs * 1000) / 1000,
      subject: identity.subject,
      spiffeId: identity.spiffeId,
      certFingerprint: identity.certFingerprint,
      identitySource: identity.source,
      deviceId: device?.id,
      deviceIssuer: device?.issuer,
      teePlatform: tee?.platform,
      teeMeasurement: tee?.measurement,
      teeIssuer: tee?.issuer,
    },
    "decision",
  );
}
