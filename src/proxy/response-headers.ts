import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { HOP_BY_HOP, namedInConnection } from "./hop-by-hop.js";

/**
 * The headers of the upstream's response as the client receives them: every
 * end-to-end header, but none of the upstream connection's own hop-by-hop
 * headers (its `Connection: close` or `Keep-Alive` describe the hop between
 * verigate and the upstream, not the client's connection). Node frames the body
 * for the client itself.
 */
export function buildResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = namedInConnection(upstream);
  const headers: OutgoingHttpHeaders = {};
  for (const name of Object.keys(upstream)) {
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}
