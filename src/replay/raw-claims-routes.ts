/**
 * Which routes' policies read raw token claims (`device.claims.*`, `tee.claims.*`).
 * Audit lines do not record those (they are large and may carry nonces), so a
 * replayed decision of such a route sees them absent and may differ from what the
 * route would really decide.
 *
 * @module
 */

import type { Claims } from "../claims/claims.js";
import type { CompiledRoute } from "../config/snapshot.js";

/** A route whose policy reads raw claims, and the attributes it reads. */
export interface RawClaimsRoute {
  readonly route: string;
  /** Sorted, without duplicates: `tee.claims.pcrs.8`, `tee.claims.vmpl`. */
  readonly attributes: readonly string[];
}

const RAW_ROOTS = ["device.claims", "tee.claims"] as const;

/** Any claims document will do: `explain` traces every criterion of every rule. */
const PROBE: Claims = {
  identity: { source: "none" },
  request: { method: "GET", path: "/", host: "", sourceIp: "127.0.0.1", time: 0 },
};

function isRaw(attribute: string): boolean {
  return RAW_ROOTS.some((root) => attribute === root || attribute.startsWith(`${root}.`));
}

/**
 * The attributes a compiled policy reads, found through `explain`, which traces
 * every criterion (nested `any`, `all` and `not` included) whatever the claims.
 */
function attributesOf(route: Pick<CompiledRoute, "policy">): Set<string> {
  const attributes = new Set<string>();
  for (const rule of route.policy.explain(PROBE).ruleTrace)
    for (const criterion of rule.criteria) attributes.add(criterion.attribute);
  return attributes;
}

/** The routes, in config order, whose live policy reads raw claims. */
export function findRawClaimsRoutes(
  routes: readonly Pick<CompiledRoute, "name" | "policy">[],
): RawClaimsRoute[] {
  return routes.flatMap((route) => {
    const raw = [...attributesOf(route)].filter(isRaw).sort();
    return raw.length === 0 ? [] : [{ route: route.name, attributes: raw }];
  });
}
