import type { RouteTable } from "./route-table.js";

/** A route for a request, or why the request is refused instead. */
export type RouteChoice<T> = { readonly route: T | undefined } | { readonly problem: string };

/**
 * Looks up the route of a canonical path. A path with `;` parameters is looked up
 * a second time without them, because servlet containers (Tomcat, Jetty) strip
 * them before routing: `/admin;x/users` is `/admin/users` to them. When the two
 * lookups disagree, the request is refused rather than decided by a route its
 * upstream would not see it under. Parameters that do not change the route
 * (`/app/page;jsessionid=...`) pass.
 */
export function chooseRoute<T>(table: RouteTable<T>, host: string, path: string): RouteChoice<T> {
  const route = table.lookup(host, path);
  if (!path.includes(";")) return { route };
  const bare = path.replace(/;[^/]*/g, "");
  if (table.lookup(host, bare) !== route)
    return { problem: "path parameters (;) would route it elsewhere for a servlet container" };
  return { route };
}
