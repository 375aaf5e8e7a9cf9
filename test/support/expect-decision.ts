import { expect } from "vitest";
import type { LogLine } from "./audit-capture.js";
import type { SeenRequest } from "./echo-upstream.js";
import type { GatewayHarness } from "./gateway-harness.js";
import { mtlsRequest, type ClientRequest, type ClientResponse } from "./mtls-client.js";

/** A request to the harness's gateway: everything `mtlsRequest` takes but where to send it. */
export type GatewayRequest = Omit<ClientRequest, "port" | "pki">;

/** An allowed request: its audit line and what the upstream received. */
export interface AllowedRequest {
  readonly line: LogLine;
  readonly seen: SeenRequest;
}

/** The fixed category a refused client sees, by status (src/policy/reasons.ts). */
const CATEGORY: Readonly<Record<number, string>> = {
  401: "authentication-required",
  403: "forbidden",
  503: "unavailable",
};

/** Sends one request to the harness's gateway, and returns the response with its audit line. */
export async function sendToGateway(
  h: GatewayHarness,
  request: GatewayRequest,
): Promise<{ res: ClientResponse; line: LogLine }> {
  const res = await mtlsRequest({ port: h.port, pki: h.pki, ...request });
  const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
  return { res, line };
}

/**
 * Sends `request` and asserts it was refused with `status` (and, when given, exactly
 * `reasons`, in order): the client gets only the fixed category and the request id
 * (no reason code), the audit line records a deny with that status, and the
 * upstream never saw the request. Returns the audit line, for assertions on its
 * reasons, detail and notes.
 */
export async function expectDenied(
  h: GatewayHarness,
  request: GatewayRequest,
  status: number,
  reasons?: readonly string[],
): Promise<LogLine> {
  const before = h.upstream.seen.length;
  const { res, line } = await sendToGateway(h, request);
  expect(res.status).toBe(status);
  const requestId = String(res.headers["x-request-id"]);
  expect(res.json()).toMatchObject({ error: CATEGORY[status], requestId });
  expect(line).toMatchObject({ decision: "deny", status });
  if (reasons !== undefined) expect(line.reasons).toEqual(reasons);
  const logged = line.reasons as string[];
  expect(logged.length).toBeGreaterThan(0);
  for (const reason of logged) expect(res.body).not.toContain(reason);
  expect(h.upstream.seen.length).toBe(before);
  return line;
}

/**
 * Sends `request` and asserts it was allowed and forwarded: 200 from the echo
 * upstream, an allow audit line, and the upstream's record of the request (found by
 * the request id verigate sent it).
 */
export async function expectAllowed(
  h: GatewayHarness,
  request: GatewayRequest,
): Promise<AllowedRequest> {
  const res = await mtlsRequest({ port: h.port, pki: h.pki, ...request });
  expect(res.status).toBe(200);
  const requestId = String(res.headers["x-request-id"]);
  const line = await h.audit.decisionFor(requestId);
  expect(line).toMatchObject({ decision: "allow", reasons: ["allowed-by-rule"], status: 200 });
  const seen = h.upstream.seen.find((s) => s.headers["x-request-id"] === requestId);
  expect(seen, "the upstream received the allowed request").toBeDefined();
  return { line, seen: seen as SeenRequest };
}
