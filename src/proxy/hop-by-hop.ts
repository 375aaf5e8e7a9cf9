import type { IncomingHttpHeaders } from "node:http";

/** Hop-by-hop headers (RFC 9110 section 7.6.1, and the classic non-standard ones): never forwarded as received. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

/** The header names a message lists in its `Connection` header: hop-by-hop too, by declaration. */
export function namedInConnection(headers: IncomingHttpHeaders): Set<string> {
  const named = new Set<string>();
  const connection = headers.connection;
  if (connection !== undefined) {
    for (const token of connection.split(",")) named.add(token.trim().toLowerCase());
  }
  return named;
}
