/**
 * The offline decision: what the live pipeline decides for a request, for the parts
 * that need no socket. Same order, same reasons: canonical target and host
 * (`malformed-request`), verigate's own endpoints, route lookup (`no-route`), the
 * identity gate (`identity-required`), then the route's policy. Claims are taken as
 * given: certificates and tokens are not verified here, that is the live path's job.
 *
 * @module
 */

import type {
  Claims,
  DeviceClaims,
  IdentityClaims,
  RequestClaims,
  TeeClaims,
} from "../claims/claims.js";
import type { CompiledRoute, Snapshot } from "../config/snapshot.js";
import type { Decision } from "../policy/decision.js";
import { statusForReasons, type ReasonCode } from "../policy/reasons.js";
import { canonicalizeTarget } from "../proxy/canonical-path.js";
import { chooseRoute } from "../proxy/choose-route.js";
import { canonicalizeHost } from "../proxy/host.js";
import { WELL_KNOWN_PREFIX } from "../well-known/nonce-endpoint.js";
import type { CaseClaims, CaseRequest } from "./load-cases.js";

/** The source address a case has unless it says otherwise. */
export const DEFAULT_SOURCE_IP = "127.0.0.1";

/** Why the pipeline stopped before the policy, or that the policy decided. */
export type DecidedBy = "request" | "endpoint" | "route" | "identity" | "policy";

/** One offline decision, with what it was made from. */
export interface CaseDecision {
  readonly effect: "allow" | "deny";
  readonly reasons: readonly ReasonCode[];
  /** The status a client would get (200 for an allow). */
  readonly status: number;
  /** The route name; `""` when none was chosen. */
  readonly route: string;
  readonly compiledRoute?: CompiledRoute;
  readonly decidedBy: DecidedBy;
  /** Why the request was malformed, for `decidedBy: "request"`. */
  readonly detail?: string;
  /** The policy's decision, with its rule trace, for `decidedBy: "policy"`. */
  readonly decision?: Decision;
  /** The claims the policy saw (request path and host canonical). */
  readonly claims: Claims;
}

/** Drops absent fields, so optional claim attributes are missing rather than `undefined`. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Builds the Claims document of a case. The identity is `certificate` when any
 * identity field is given (or the given `source`), else `none`; `request` gets the
 * (canonical) method, path and host, and a default source address and time.
 */
export function buildCaseClaims(
  given: CaseClaims,
  request: Pick<RequestClaims, "method" | "path" | "host">,
  now: number,
): Claims {
  const identityFields = given.identity === undefined ? {} : defined(given.identity);
  const hasIdentity = Object.keys(identityFields).length > 0;
  const identity = {
    source: hasIdentity ? "certificate" : "none",
    ...identityFields,
  } as IdentityClaims;
  return {
    identity,
    ...(given.device === undefined ? {} : { device: defined(given.device) as DeviceClaims }),
    ...(given.tee === undefined ? {} : { tee: defined(given.tee) as TeeClaims }),
    request: {
      method: request.method,
      path: request.path,
      host: request.host,
      sourceIp: given.request?.sourceIp ?? DEFAULT_SOURCE_IP,
      time: given.request?.time ?? now,
    },
  };
}

/** What `decideCase` reads of a snapshot: only the route table. */
export type CaseSnapshot = Pick<Snapshot, "routeTable">;

/**
 * Decides a case as the live pipeline would. With `explain`, the policy traces every
 * rule and criterion (`CompiledPolicy.explain`); otherwise it evaluates as on the hot path.
 */
export function decideCase(
  snapshot: CaseSnapshot,
  request: CaseRequest,
  given: CaseClaims,
  options: { readonly now?: number; readonly explain?: boolean } = {},
): CaseDecision {
  const now = options.now ?? Date.now();
  const raw = buildCaseClaims(given, { method: request.method, path: "", host: "" }, now);
  const stop = (
    reasons: ReasonCode[],
    decidedBy: DecidedBy,
    claims: Claims,
    rest: Partial<CaseDecision> = {},
  ): CaseDecision => ({
    effect: decidedBy === "endpoint" ? "allow" : "deny",
    reasons,
    status: statusForReasons(reasons),
    route: "",
    decidedBy,
    claims,
    ...rest,
  });

  const target = canonicalizeTarget(request.path);
  if (!target.ok) return stop(["malformed-request"], "request", raw, { detail: target.problem });
  const host = canonicalizeHost(request.host);
  if (!host.ok) return stop(["malformed-request"], "request", raw, { detail: host.problem });
  const claims: Claims = {
    ...raw,
    request: { ...raw.request, path: target.path, host: host.host },
  };
  if (target.path.startsWith(WELL_KNOWN_PREFIX))
    return stop(["served-by-verigate"], "endpoint", claims);

  const choice = chooseRoute(snapshot.routeTable, host.host, target.path);
  if ("problem" in choice)
    return stop(["malformed-request"], "request", claims, { detail: choice.problem });
  const route = choice.route;
  if (route === undefined) return stop(["no-route"], "route", claims);
  const chosen = { route: route.name, compiledRoute: route };
  if (route.identity === "required" && claims.identity.source === "none") {
    return stop(["identity-required"], "identity", claims, chosen);
  }
  const decision =
    options.explain === true ? route.policy.explain(claims) : route.policy.evaluate(claims);
  return {
    effect: decision.effect,
    reasons: decision.reasons,
    status: decision.effect === "allow" ? 200 : statusForReasons(decision.reasons),
    ...chosen,
    decidedBy: "policy",
    decision,
    claims,
  };
}
