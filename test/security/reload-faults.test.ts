import { readFile, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reloader } from "../../src/reload/reloader.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { ALICE_ONLY_ROUTE, reloaderFor } from "../support/reload-harness.js";
import { createSigningKey, jwksOf } from "../support/token-keys.js";

/**
 * Reload faults: a CA, CRL, JWKS or config file that is missing, corrupted or half
 * written when a reload reads it. Each is rejected with its `path: problem`, the
 * snapshot in force keeps serving (same revision, same trust), and nothing leaks.
 */
describe("reload faults", () => {
  let h: GatewayHarness;
  let reloader: Reloader;
  let revision: string;
  beforeAll(async () => {
    const key = await createSigningKey("ES256", "sso-1");
    h = await startGateway({
      files: { "sso-jwks.json": JSON.stringify(jwksOf(key)) },
      extra: `reload: { watch: false }
issuers:
  - name: sso
    kind: identity
    issuer: https://sso.test
    audience: verigate
    jwks: { file: sso-jwks.json }
    algorithms: [ES256]
`,
      routes: ALICE_ONLY_ROUTE,
    });
    reloader = reloaderFor(h);
    revision = h.gateway.snapshot.revision;
  });
  afterAll(async () => {
    reloader.close();
    await h.close();
  });

  /** Replaces a file for one reload, restores it, and returns the reload's problems. */
  async function reloadWith(file: string, content: string | undefined): Promise<string[]> {
    const saved = await readFile(file);
    if (content === undefined) await rename(file, `${file}.away`);
    else await writeFile(file, content);
    try {
      const outcome = await reloader.reload("test");
      expect(outcome.result).toBe("rejected");
      expect(outcome.revision).toBe(revision);
      return outcome.problems.map((problem) => `${problem.path}: ${problem.message}`);
    } finally {
      if (content === undefined) await rename(`${file}.away`, file);
      else await writeFile(file, saved);
    }
  }

  /** The config in force still serves, with its own trust: alice in, bob out, nobody without a certificate. */
  async function expectOldConfigServing(): Promise<void> {
    expect(h.gateway.snapshot.revision).toBe(revision);
    const statuses = await Promise.all(
      [h.pki.clients.alice, h.pki.clients.bob, undefined].map(
        async (as) =>
          (await mtlsRequest({ port: h.port, pki: h.pki, ...(as === undefined ? {} : { as }) }))
            .status,
      ),
    );
    expect(statuses).toEqual([200, 403, 401]);
  }

  it("a client CA file replaced by garbage (Caddy CVE-2026-27586 class: mTLS must not fail open)", async () => {
    const problems = await reloadWith(
      h.files.clientCAs,
      "-----BEGIN CERTIFICATE-----\nnot base64\n",
    );
    expect(problems.some((p) => p.startsWith("tls.clientCAs: "))).toBe(true);
    await expectOldConfigServing();
  });

  it("a client CA file that holds no CA certificate at all", async () => {
    const problems = await reloadWith(h.files.clientCAs, "");
    expect(problems.some((p) => p.startsWith("tls.clientCAs: "))).toBe(true);
    await expectOldConfigServing();
  });

  it("a CRL file that went missing or is corrupted (revocation must not silently stop)", async () => {
    expect((await reloadWith(h.files.crl, undefined)).join("\n")).toMatch(
      /^tls\.crl: cannot read .*ENOENT/m,
    );
    expect(
      (
        await reloadWith(h.files.crl, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
      ).some((p) => p.startsWith("tls.crl")),
    ).toBe(true);
    await expectOldConfigServing();
  });

  it("a JWKS file replaced by junk, or by a key set with a private key", async () => {
    const jwks = join(h.configFile, "..", "sso-jwks.json");
    expect(await reloadWith(jwks, "{ not json")).toContain(
      'issuers[0].jwks.file: "sso-jwks.json" is not JSON',
    );
    const privateSet = JSON.stringify({
      keys: [{ kty: "EC", crv: "P-256", x: "a", y: "b", d: "c" }],
    });
    expect((await reloadWith(jwks, privateSet)).join("\n")).toContain("is a private key");
    await expectOldConfigServing();
  });

  it("a config file caught half written, or deleted", async () => {
    const text = await readFile(h.configFile, "utf8");
    const half = await reloadWith(h.configFile, text.slice(0, Math.floor(text.length / 2)));
    expect(half.length).toBeGreaterThan(0);
    const gone = await reloadWith(h.configFile, undefined);
    expect(gone).toEqual([expect.stringMatching(/cannot read config file .*ENOENT/)]);
    await expectOldConfigServing();
  });

  it("a storm of reloads during traffic drops no request and leaks no upstream connection", async () => {
    const fdsBefore = (await readdir("/proc/self/fd")).length;
    const text = await readFile(h.configFile, "utf8");
    let running = true;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (running) {
        const res = await mtlsRequest({ port: h.port, pki: h.pki, as: h.pki.clients.alice });
        statuses.push(res.status);
      }
    })();
    for (let i = 0; i < 10; i++) {
      // Alternate two valid configs: each reload applies.
      await writeFile(h.configFile, i % 2 === 0 ? `${text}\n# ${i}\n` : text);
      expect((await reloader.reload("storm")).result).toBe("applied");
    }
    running = false;
    await traffic;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
    await expect
      .poll(async () => (await readdir("/proc/self/fd")).length, { timeout: 5000 })
      .toBeLessThanOrEqual(fdsBefore + 2);
  });
});
