import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";

/** Where a route's allowed requests go, parsed once at load time with its own keep-alive pool. */
export interface Upstream {
  readonly url: URL;
  /** The Host header value that names the upstream itself (`host[:port]`). */
  readonly host: string;
  readonly agent: HttpAgent;
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
  return { upstream: { url, host: url.host, agent } };
}
