import { expect } from "vitest";
import type { IssuedCertificate } from "../../src/dev-pki/certificate-authority.js";
import type { GatewayHarness } from "./gateway-harness.js";
import { mtlsRequest } from "./mtls-client.js";

/**
 * Sends a request as `client` and asserts it was refused with `status` for
 * `reason`: the client sees only the category, the audit line has the reason,
 * and the upstream never saw the request.
 */
export async function expectRefused(
  h: GatewayHarness,
  client: IssuedCertificate | undefined,
  status: number,
  reason: string,
  path = "/private",
): Promise<Record<string, unknown>> {
  const before = h.upstream.seen.length;
  const res = await mtlsRequest({
    port: h.port,
    pki: h.pki,
    path,
    ...(client === undefined ? {} : { as: client }),
  });
  expect(res.status).toBe(status);
  expect(res.body).not.toContain(reason);
  const line = await h.audit.decisionFor(String(res.headers["x-request-id"]));
  expect(line).toMatchObject({
    decision: "deny",
    reasons: [reason],
    status,
    identitySource: "none",
  });
  expect(h.upstream.seen.length).toBe(before);
  return line;
}
