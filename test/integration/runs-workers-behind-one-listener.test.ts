import { once } from "node:events";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { request } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoUpstream, type EchoUpstream } from "../support/echo-upstream.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { createTestPki, writeTestPki, type TestPki } from "../support/pki.js";
import { findTestRedis, TEST_REDIS_URL } from "../support/test-redis.js";
import { createSigningKey, jwksOf, mintToken, type TestSigningKey } from "../support/token-keys.js";
import { startVerigateProcess, type VerigateProcess } from "../support/verigate-process.js";
import { NONCE_ATTESTATION_ISSUERS } from "../support/test-routes.js";

const MEASUREMENT = "ab".repeat(48);

const hasRedis = await findTestRedis();

function adminGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** `workers: 2` needs state.redis (nonces must be shared by the workers). */
describe.skipIf(!hasRedis)("verigate serve with workers: 2", () => {
  let dir: string;
  let config: string;
  let pki: TestPki;
  let upstream: EchoUpstream;
  let verigate: VerigateProcess;
  let adminPort: number;
  let attestationKey: TestSigningKey;

  /** Requests, each on a new connection (the cluster spreads connections over the workers). */
  async function statuses(as: "alice" | "bob", n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++)
      out.push((await mtlsRequest({ port: verigate.port, pki, as: pki.clients[as] })).status);
    return out;
  }
  const decisionWorkers = (): Set<unknown> =>
    new Set(verigate.lines.filter((l) => l["msg"] === "decision").map((l) => l["worker"]));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-workers-"));
    pki = await createTestPki();
    const files = await writeTestPki(pki, join(dir, "pki"));
    upstream = await startEchoUpstream();
    config = join(dir, "verigate.yaml");
    // Workers share the assertion key, so an upstream verifies every worker's assertions.
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await writeFile(
      join(dir, "assertion.pem"),
      privateKey.export({ type: "pkcs8", format: "pem" }),
    );
    attestationKey = await createSigningKey("ES256", "att-1");
    await writeFile(join(dir, "att-jwks.json"), JSON.stringify(jwksOf(attestationKey)));
    await writeFile(
      config,
      `listen: { address: 127.0.0.1, port: 0 }
admin: { address: 127.0.0.1, port: 0 }
tls: { cert: ${files.server.cert}, key: ${files.server.key}, clientCAs: ${files.clientCAs} }
reload: { watch: false }
workers: 2
assertion: { key: assertion.pem }
state: { redis: { url: "${TEST_REDIS_URL}", keyPrefix: "verigate-test-${randomUUID()}:" } }
${NONCE_ATTESTATION_ISSUERS}routes:
  - name: tee
    match: { pathPrefix: /tee/ }
    upstream: "${upstream.url}"
    policy: { allow: [ { tee.measurement: ${MEASUREMENT}, tee.debug: false } ] }
  - name: app
    upstream: "${upstream.url}"
    policy: { allow: [ { identity.commonName: bob } ] }
`,
    );
    verigate = await startVerigateProcess(config);
    adminPort = Number((await verigate.waitFor("verigate workers listening"))["adminPort"]);
  });
  afterAll(async () => {
    if (verigate.child.exitCode === null) verigate.child.kill("SIGKILL");
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves from both workers, and /readyz is ready", async () => {
    expect(await statuses("bob", 8)).toEqual(Array(8).fill(200));
    expect(decisionWorkers().size).toBe(2);
    const ready = await adminGet(adminPort, "/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: "ready" });
  });

  it("refuses a nonce replayed across the workers (one redemption, shared through Redis)", async () => {
    const issued = await mtlsRequest({
      port: verigate.port,
      pki,
      as: pki.clients.alice,
      method: "POST",
      path: "/.well-known/verigate/nonce",
    });
    expect(issued.status).toBe(200);
    const { nonce } = issued.json<{ nonce: string }>();
    const token = (jti: string): Promise<string> =>
      mintToken(
        attestationKey,
        { tee: "sev-snp", m: MEASUREMENT, d: false, nonce, jti },
        { iss: "https://att.test", aud: "verigate" },
      );
    const call = async (tokenText: string): Promise<{ status: number; id: string }> => {
      const res = await mtlsRequest({
        port: verigate.port,
        pki,
        as: pki.clients.alice,
        path: "/tee/x",
        headers: { "x-attestation-token": tokenText },
      });
      return { status: res.status, id: String(res.headers["x-request-id"]) };
    };
    // The first token redeems the nonce, through whichever worker takes the connection.
    expect((await call(await token("first"))).status).toBe(200);
    // Other tokens with the same nonce, each on a new connection, so both workers see one.
    const replays: Array<{ status: number; id: string }> = [];
    for (let i = 0; i < 6; i++) replays.push(await call(await token(`replay-${i}`)));
    expect(replays.map((r) => r.status)).toEqual(Array(6).fill(401));
    const lineOf = (id: string) => verigate.lines.find((l) => l["requestId"] === id);
    await expect.poll(() => replays.every((r) => lineOf(r.id) !== undefined)).toBe(true);
    const lines = replays.map((r) => lineOf(r.id));
    expect(
      lines.every((l) => (l?.["reasons"] as string[] | undefined)?.[0] === "nonce-invalid"),
    ).toBe(true);
    expect(new Set(lines.map((l) => l?.["worker"])).size).toBe(2);
  });

  it("forwards SIGHUP to every worker: a policy change applies to every new connection", async () => {
    expect(await statuses("alice", 2)).toEqual([403, 403]);
    const text = await readFile(config, "utf8");
    await writeFile(config, text.replace("identity.commonName: bob", "identity.commonName: alice"));
    verigate.child.kill("SIGHUP");
    await verigate.waitFor("config reloaded", 1); // both workers
    expect(await statuses("alice", 8)).toEqual(Array(8).fill(200));
  });

  it("sums the workers' metrics on the primary's admin port", async () => {
    const { status, body } = await adminGet(adminPort, "/metrics");
    expect(status).toBe(200);
    // Audit lines reach the primary's stdout a moment after the metrics count them: wait for all.
    const allowedLines = (): number =>
      verigate.lines.filter(
        (l) => l["msg"] === "decision" && l["decision"] === "allow" && l["route"] === "app",
      ).length;
    const counted =
      /verigate_decisions_total\{route="app",decision="allow",reason="allowed-by-rule"\} (\d+)/.exec(
        body,
      );
    expect(counted).not.toBeNull();
    await expect.poll(allowedLines).toBe(Number(counted?.[1]));
    expect(allowedLines()).toBeGreaterThan(0);
    expect(body).toContain('verigate_config_reloads_total{result="applied"} 2');
  });

  it("starts another worker when one dies", async () => {
    const first = await verigate.waitFor("verigate listening");
    process.kill(Number(first["pid"]), "SIGKILL");
    await verigate.waitFor("worker exited unexpectedly; starting another");
    await verigate.waitFor("verigate listening", 2);
    await expect.poll(async () => (await adminGet(adminPort, "/readyz")).status).toBe(200);
    expect(await statuses("alice", 4)).toEqual(Array(4).fill(200));
  });

  it("drains every worker on SIGTERM and exits 0", async () => {
    const exited = once(verigate.child, "exit") as Promise<[number | null]>;
    verigate.child.kill("SIGTERM");
    expect((await exited)[0]).toBe(0);
  });
});
