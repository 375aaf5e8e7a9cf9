import type { IncomingMessage } from "node:http";
import type { ReasonCode } from "../policy/reasons.js";

/** Why a request is refused before routing. */
export interface HygieneProblem {
  readonly reason: ReasonCode;
  readonly detail: string;
}

/**
 * Refuses what Node's HTTP parser lets through but a proxy must not pass on
 * ambiguous (SECURITY-NOTES.md, "Node's HTTP parser"): more header fields than the
 * limit (the server is set to keep them all, so none is silently dropped), a second
 * Host, Authorization or token header (the first would win here, another parser
 * may take the last), and chunked encoding on HTTP/1.0, which has none. The
 * target and Host are checked by `canonicalizeTarget` and `canonicalizeHost`.
 * `singletonHeaders` holds lowercase names a request may carry at most once.
 */
export function checkRequestHead(
  req: IncomingMessage,
  maxHeaderCount: number,
  singletonHeaders: ReadonlySet<string>,
): HygieneProblem | undefined {
  const raw = req.rawHeaders;
  const count = raw.length / 2;
  if (count > maxHeaderCount) {
    return {
      reason: "too-many-headers",
      detail: `${count} header fields (limit ${maxHeaderCount})`,
    };
  }
  const seen = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!singletonHeaders.has(name)) continue;
    if (seen.has(name))
      return { reason: "malformed-request", detail: `more than one ${name} header` };
    seen.add(name);
  }
  if (req.httpVersion === "1.0" && seen.has("transfer-encoding")) {
    return { reason: "malformed-request", detail: "transfer-encoding on HTTP/1.0" };
  }
  return undefined;
}

/**
 * 421 when the Host names another server than the TLS server name the client
 * connected for. A client that sent no SNI (one connecting by IP address) has
 * nothing to compare. Session resumption is off, so an absent SNI is never the
 * falsy `servername` of a resumed TLS 1.2 session that would switch this off.
 */
export function checkHostMatchesSni(
  host: string,
  servername: string | false | null | undefined,
): HygieneProblem | undefined {
  if (typeof servername !== "string" || servername === "") return undefined;
  const sni = servername.toLowerCase().replace(/\.$/, "");
  if (sni === host) return undefined;
  return { reason: "misdirected-request", detail: `Host ${host} on a connection for ${sni}` };
}
