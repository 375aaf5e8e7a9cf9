import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Pool } from "undici";

/** Where a route's allowed requests go, parsed once at load time with its own keep-alive pool. */
export interface Upstream {
  readonly url: URL;
  /** The Host header value that names the upstream itself (`host[:port]`). */
  readonly host: string;
  readonly agent: HttpAgent;
  /** The route's `upstreamCA` (PEM): the only trust anchors for an https upstream when set. */
  readonly ca: string | undefined;
}

/**
 * The undici engine's connection pool to each upstream, made on its first request
 * (the http-proxy-3 engine never makes one) and closed with the upstream's agent.
 */
const pools = new WeakMap<Upstream, Pool>();

/** The undici pool to `upstream`, made by `create` the first time. */
export function obtainPool(upstream: Upstream, create: () => Pool): Pool {
  let pool = pools.get(upstream);
  if (pool === undefined) {
    pool = create();
    pools.set(upstream, pool);
  }
  return pool;
}

/**
 * Closes an upstream's connection pools: the agent's, and the undici engine's if it
 * made one. A later request makes new connections (a new pool), as the agent would.
 */
export function closeUpstream(upstream: Upstream): void {
  upstream.agent.destroy();
  const pool = pools.get(upstream);
  pools.delete(upstream);
  pool?.destroy(() => undefined);
}

/**
 * Parses a route's `upstream` URL. Refuses what would be ambiguous or leak:
 * credentials in the URL, a query or fragment, schemes other than http(s).
 */
export function parseUpstream(
  raw: string,
  ca: string | undefined,
): { upstream: Upstream } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `"${raw}" is not a URL` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { problem: `must be an http:// or https:// URL, not ${url.protocol}` };
  }
  if (url.username !== "" || url.password !== "") return { problem: "must not carry credentials" };
  if (url.search !== "" || url.hash !== "") return { problem: "must not have a query or fragment" };
  if (ca !== undefined && url.protocol !== "https:")
    return { problem: "upstreamCA is only for https:// upstreams" };
  const options = { keepAlive: true, scheduling: "lifo" as const };
  const agent =
    url.protocol === "https:"
      ? new HttpsAgent({ ...options, ...(ca === undefined ? {} : { ca }) })
      : new HttpAgent(options);
  return { upstream: { url, host: url.host, agent, ca } };
}
