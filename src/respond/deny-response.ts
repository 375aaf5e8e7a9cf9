import type { ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** What a refused client may learn: the status, a fixed category and the request id. Never the policy's internals. */
export interface DenyResponse {
  readonly status: number;
  readonly category: string;
  readonly requestId: string;
}

const MESSAGES: Readonly<Record<string, string>> = {
  "authentication-required":
    "Verified credentials are required: a valid client certificate or token.",
  forbidden: "Access to this resource is not allowed by policy.",
  "not-found": "No application is served at this address.",
  "bad-request": "The request is malformed.",
  "bad-gateway": "The application could not be reached.",
  "gateway-timeout": "The application did not answer in time.",
  "internal-error": "The request could not be decided and was refused.",
  "retry-new-connection":
    "The server's TLS settings changed since this connection was made. Retry on a new connection.",
  misdirected: "This server does not answer for that host on this connection.",
  "headers-too-large": "The request headers are too large or too many.",
  "request-timeout": "The request did not arrive in time.",
  "body-too-large": "The request body is too large.",
  unavailable:
    "A service needed to decide is unavailable; the request was refused. Try again later.",
};

/**
 * Refusals after which the connection is not reused: a malformed or oversized
 * request may leave unread bytes that a parser would misread as the next request,
 * and 421 tells the client to retry on another connection (RFC 9110, 15.5.20).
 */
const CLOSES_CONNECTION: ReadonlySet<number> = new Set([400, 408, 413, 421, 431]);

function wantsHtml(accept: string | undefined): boolean {
  // Browsers ask for text/html first; API clients and curl do not.
  return accept !== undefined && /^\s*text\/html/i.test(accept);
}

function renderHtml(response: DenyResponse, message: string): string {
  const title = `${response.status} ${STATUS_CODES[response.status] ?? ""}`;
  // Every interpolated value is a fixed string or a UUID: nothing client-supplied reaches the page.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}code{background:#eee;padding:.1em .3em}</style>
</head><body><h1>${title}</h1><p>${message}</p>
<p>Reason: <code>${response.category}</code><br>Request id: <code>${response.requestId}</code></p>
<p>Give the request id to your administrator: it identifies the full decision in the audit log.</p>
</body></html>
`;
}

function render(
  response: DenyResponse,
  accept: string | undefined,
): { type: string; body: string } {
  const message = MESSAGES[response.category] ?? "The request was refused.";
  if (wantsHtml(accept))
    return { type: "text/html; charset=utf-8", body: renderHtml(response, message) };
  const body = JSON.stringify({ error: response.category, message, requestId: response.requestId });
  return { type: "application/json", body: `${body}\n` };
}

/** Sends a deny (or error) response: JSON for API clients, a small HTML page for browsers. */
export function sendDeny(
  res: ServerResponse,
  response: DenyResponse,
  accept: string | undefined,
): void {
  const { type, body } = render(response, accept);
  res.writeHead(response.status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-request-id": response.requestId,
    "x-content-type-options": "nosniff",
    ...(CLOSES_CONNECTION.has(response.status) ? { connection: "close" } : {}),
  });
  res.end(body);
}

/** Refuses an upgrade request on its raw socket, then closes it. */
export function sendDenyOnSocket(socket: Duplex, response: DenyResponse): void {
  const { type, body } = render(response, undefined);
  const head =
    `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}\r\n` +
    `content-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${response.requestId}\r\nconnection: close\r\n\r\n`;
  if (socket.writable) socket.end(head + body);
  else socket.destroy();
}
