import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/audit/logger.js";
import { loadSnapshot } from "../../src/config/compile-config.js";
import {
  mintDevAttestationToken,
  type DevTokenOptions,
} from "../../src/dev-pki/dev-attestation-service.js";
import { writeDevPki, type DevPkiFiles } from "../../src/dev-pki/write-dev-pki.js";
import { createGateway, type Gateway } from "../../src/server.js";
import { AuditCapture } from "../support/audit-capture.js";
import { startEchoUpstream, type EchoUpstream } from "../support/echo-upstream.js";
import { connectFor } from "../support/connect-for-host.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/payroll-attestation.yaml", import.meta.url));

/**
 * The shipped example, as written, with a dev PKI beside it: only the ports are
 * changed (tests never bind fixed ports).
 */
describe("examples/payroll-attestation.yaml", () => {
  let dir: string;
  let pki: DevPkiFiles;
  let upstream: EchoUpstream;
  let gateway: Gateway;
  let port: number;
  const audit = new AuditCapture();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-example-"));
    pki = await writeDevPki(join(dir, "pki"));
    upstream = await startEchoUpstream();
    const yaml = (await readFile(EXAMPLE, "utf8"))
      .replace(
        "listen: { address: 127.0.0.1, port: 8443 }",
        "listen: { address: 127.0.0.1, port: 0 }",
      )
      .replace(
        "admin: { address: 127.0.0.1, port: 9090 }",
        "admin: { address: 127.0.0.1, port: 0 }",
      )
      .replaceAll("http://127.0.0.1:9001", upstream.url);
    await writeFile(join(dir, "payroll-attestation.yaml"), yaml);
    gateway = createGateway(
      await loadSnapshot(join(dir, "payroll-attestation.yaml")),
      createLogger({ destination: audit }),
    );
    ({ port } = await gateway.listen());
  });
  afterAll(async () => {
    await gateway.close(100);
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function call(
    who: "alice" | "carol",
    path: string,
    token?: Partial<DevTokenOptions> & { for?: "alice" | "carol" },
  ): Promise<{ status: number; line: Record<string, unknown> }> {
    const { request } = await import("node:https");
    const cert = await readFile(pki.clients[who].cert, "utf8");
    const key = await readFile(pki.clients[who].key, "utf8");
    const headers: Record<string, string> = { host: "payroll.localhost" };
    if (token !== undefined) {
      headers["x-attestation-token"] = await mintDevAttestationToken({
        keyPem: await readFile(pki.attestationService.key, "utf8"),
        clientCertPem: await readFile(pki.clients[token.for ?? who].cert, "utf8"),
        ...token,
      });
    }
    const ca = await readFile(pki.ca, "utf8");
    const { status, requestId } = await new Promise<{ status: number; requestId: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            path,
            ...connectFor("payroll.localhost"),
            ca,
            cert,
            key,
            headers,
            agent: false,
          },
          (res) => {
            res.resume();
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                requestId: String(res.headers["x-request-id"]),
              }),
            );
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    return { status, line: await audit.decisionFor(requestId) };
  }

  it("lets a bound, fresh, non-debug attestation with a listed measurement reach payroll", async () => {
    const { status, line } = await call("carol", "/api/pay", {});
    expect(status).toBe(200);
    expect(line).toMatchObject({
      decision: "allow",
      route: "payroll-api",
      teeIssuer: "attestation-service",
      teePlatform: "sev-snp",
    });
    expect(upstream.seen.at(-1)?.url).toBe("/api/pay");
    expect(upstream.seen.at(-1)?.headers["x-attestation-token"]).toBeUndefined();
  });

  it("accepts a TDX guest too", async () => {
    expect((await call("carol", "/api/pay", { platform: "tdx" })).status).toBe(200);
  });

  it.each([
    [
      "a debug TEE",
      "carol",
      { debug: true },
      403,
      ["no-matching-rule", "attestation-debug-enabled"],
    ],
    [
      "an unlisted measurement",
      "carol",
      { measurement: "ab".repeat(48) },
      403,
      ["no-matching-rule", "measurement-not-allowed"],
    ],
    ["an unbound token", "carol", { unbound: true }, 401, ["token-not-bound"]],
    [
      "carol's token on alice's connection",
      "alice",
      { for: "carol" as const },
      401,
      ["token-not-bound"],
    ],
    [
      "an expired token",
      "carol",
      { issuedAt: Math.floor(Date.now() / 1000) - 3600 },
      401,
      ["token-expired"],
    ],
    [
      "a token older than maxAge",
      "carol",
      { issuedAt: Math.floor(Date.now() / 1000) - 1800, lifetimeSeconds: 7200 },
      401,
      ["token-too-old"],
    ],
    [
      "no token and no TEE claims",
      "alice",
      undefined,
      403,
      ["no-matching-rule", "attestation-missing"],
    ],
  ] as const)("refuses %s", async (_what, who, token, status, reasons) => {
    const before = upstream.seen.length;
    const result = await call(who, "/api/pay", token === undefined ? undefined : { ...token });
    expect(result.status).toBe(status);
    expect(result.line.reasons).toEqual(reasons);
    expect(upstream.seen.length).toBe(before);
  });

  it("lets carol's certificate claims (from the vouching attestation CA) read reports", async () => {
    const { status, line } = await call("carol", "/reports/q3");
    expect(status).toBe(200);
    expect(line).toMatchObject({
      route: "payroll-reports",
      teeIssuer: "attestation-ca",
      deviceIssuer: "device-ca",
    });
  });
});
