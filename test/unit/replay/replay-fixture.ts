import type { CompiledRoute } from "../../../src/config/snapshot.js";
import { compilePolicy } from "../../../src/policy/compile-policy.js";
import { buildRouteTable } from "../../../src/proxy/route-table.js";

/** The time recorded in the fixture lines' `input`: 2023-11-14T22:13:20Z. */
export const RECORDED_TIME = 1_700_000_000_000;

/** A route as replay reads it: name, identity gate and policy (no upstream). */
export function route(
  name: string,
  policy: unknown,
  identity: "required" | "optional" = "required",
): CompiledRoute {
  const compiled = compilePolicy(policy, { path: "policy", route: name, lists: new Map() });
  if (compiled.policy === undefined) throw new Error(JSON.stringify(compiled.problems));
  return {
    name,
    where: `routes[${name}]`,
    identity,
    policy: compiled.policy,
  } as unknown as CompiledRoute;
}

/** A snapshot of routes, each matching its own host (`<name>.test`), path `/`. */
export function snapshotOf(...routes: CompiledRoute[]) {
  const { table } = buildRouteTable(
    routes.map((value, i) => ({
      host: `${value.name}.test`,
      pathPrefix: "/",
      where: `routes[${i}]`,
      value,
    })),
  );
  return { routeTable: table, routes };
}

/** One audit line as pino writes it: alice's allowed GET hr.test/, with its input. */
export function auditLine(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    level: 30,
    time: RECORDED_TIME,
    msg: "decision",
    requestId: "r1",
    revision: "0123456789ab",
    route: "hr",
    decision: "allow",
    reasons: ["allowed-by-rule"],
    rule: "allow[0]",
    status: 200,
    method: "GET",
    host: "hr.test",
    path: "/",
    sourceIp: "10.0.0.7",
    identitySource: "certificate",
    input: { identity: { source: "certificate", commonName: "alice" }, time: RECORDED_TIME },
    ...fields,
  });
}
