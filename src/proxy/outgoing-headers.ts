import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { HOP_BY_HOP, namedInConnection } from "./hop-by-hop.js";

/**
 * Headers an upstream might read as facts established by a proxy. Only verigate
 * sets them; a client's copy is dropped whatever its case. That includes the client
 * certificate headers other TLS-terminating proxies assert (RFC 9440 `Client-Cert`,
 * Envoy's XFCC, nginx's `X-SSL-Client-*`, Azure's and AWS ALB's): an upstream moved
 * behind verigate may still trust them, and the certificate it can rely on is the
 * one in verigate's assertion (`cnf`).
 */
const PROXY_ASSERTED = new Set([
  "forwarded",
  "x-real-ip",
  "x-request-id",
  "x-client-ip",
  "x-forwarded-client-cert",
  "client-cert",
  "client-cert-chain",
  "x-client-cert",
  "ssl-client-cert",
  "x-arr-clientcert",
  "x-original-url",
  "x-original-uri",
  "x-rewrite-url",
]);
const PROXY_ASSERTED_PREFIXES = ["x-verigate-", "x-forwarded-", "x-ssl-client-", "x-amzn-mtls-"];

/**
 * Headers with which some frameworks (Express's method-override, Rails, Symfony,
 * ASP.NET) let a request act as another method: the policy decided on the real one
 * (`request.method`), so the upstream must not be told another.
 */
const METHOD_OVERRIDE = new Set(["x-http-method-override", "x-http-method", "x-method-override"]);

/**
 * Set by verigate below: Host, 100-continue (answered by verigate itself) and the
 * body framing, which a `Connection: content-length` must not be able to strip.
 */
const REPLACED = new Set(["host", "expect", "content-length"]);

function isProxyAsserted(name: string): boolean {
  return (
    PROXY_ASSERTED.has(name) || PROXY_ASSERTED_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
}

/** What verigate knows about the request that the upstream should hear from it. */
export interface ForwardingFacts {
  /** The Host value the upstream receives. */
  readonly host: string;
  /** The host the client asked for, as x-forwarded-host. */
  readonly clientHost: string;
  readonly clientIp: string;
  readonly requestId: string;
  /** A WebSocket (or other) upgrade: keep `Upgrade` and send `Connection: upgrade`. */
  readonly isUpgrade: boolean;
  /** Headers whose tokens verigate verified and consumed: credentials meant for verigate. */
  readonly consumed: readonly string[];
}

/**
 * Builds the complete header set sent upstream. It is built, not filtered: the
 * proxy library copies whatever it is given, so this is the only place a client
 * header can pass, and it passes only if it is end-to-end, not listed in
 * `Connection`, not one that a proxy asserts, and has no `_` in its name (Node
 * accepts `X_Verigate_User`, which some frameworks read as `X-Verigate-User`;
 * nginx drops such names by default too).
 */
export function buildOutgoingHeaders(
  incoming: IncomingHttpHeaders,
  facts: ForwardingFacts,
): OutgoingHttpHeaders {
  const named = namedInConnection(incoming);
  const outgoing: OutgoingHttpHeaders = {};
  for (const name of Object.keys(incoming)) {
    if (
      name.includes("_") ||
      HOP_BY_HOP.has(name) ||
      REPLACED.has(name) ||
      METHOD_OVERRIDE.has(name) ||
      named.has(name) ||
      isProxyAsserted(name) ||
      facts.consumed.includes(name)
    ) {
      continue;
    }
    const value = incoming[name];
    if (value !== undefined) outgoing[name] = value;
  }

  // Framing is rebuilt, not copied: Node's parser already refused CL with TE, so
  // a body has a known length or is chunked.
  const contentLength = incoming["content-length"];
  if (contentLength !== undefined) outgoing["content-length"] = contentLength;
  else if (incoming["transfer-encoding"] !== undefined) outgoing["transfer-encoding"] = "chunked";
  if (facts.isUpgrade && incoming.upgrade !== undefined) {
    outgoing.connection = "upgrade";
    outgoing.upgrade = incoming.upgrade;
  }
  outgoing.host = facts.host;
  outgoing["x-forwarded-for"] = facts.clientIp;
  outgoing["x-forwarded-proto"] = "https";
  outgoing["x-forwarded-host"] = facts.clientHost;
  outgoing["x-request-id"] = facts.requestId;
  return outgoing;
}
