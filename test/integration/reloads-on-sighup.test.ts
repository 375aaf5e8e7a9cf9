import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoUpstream, type EchoUpstream } from "../support/echo-upstream.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { createTestPki, writeTestPki, type TestPki } from "../support/pki.js";
import { startVerigateProcess, type VerigateProcess } from "../support/verigate-process.js";

describe("verigate serve and SIGHUP", () => {
  let dir: string;
  let config: string;
  let pki: TestPki;
  let upstream: EchoUpstream;
  let verigate: VerigateProcess;

  async function edit(from: string, to: string): Promise<void> {
    const text = await readFile(config, "utf8");
    expect(text).toContain(from);
    await writeFile(config, text.replace(from, to));
  }
  const alice = async (): Promise<number> =>
    (await mtlsRequest({ port: verigate.port, pki, as: pki.clients.alice })).status;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-sighup-"));
    pki = await createTestPki();
    const files = await writeTestPki(pki, join(dir, "pki"));
    upstream = await startEchoUpstream();
    config = join(dir, "verigate.yaml");
    await writeFile(
      config,
      `listen: { address: 127.0.0.1, port: 0 }
admin: { address: 127.0.0.1, port: 0 }
tls: { cert: ${files.server.cert}, key: ${files.server.key}, clientCAs: ${files.clientCAs} }
reload: { watch: false }
routes:
  - name: app
    upstream: "${upstream.url}"
    policy: { allow: [ { identity.commonName: bob } ] }
`,
    );
    verigate = await startVerigateProcess(config);
  });
  afterAll(async () => {
    if (verigate.child.exitCode === null) verigate.child.kill("SIGKILL");
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("applies a valid change", async () => {
    expect(await alice()).toBe(403);
    await edit("identity.commonName: bob", "identity.commonName: alice");
    verigate.child.kill("SIGHUP");
    const reloaded = await verigate.waitFor("config reloaded");
    expect(reloaded["trigger"]).toBe("SIGHUP");
    expect(await alice()).toBe(200);
  });

  it("rejects an invalid one with path: problem lines, and keeps serving", async () => {
    await edit("identity.commonName: alice", "identity.commonName: { startsWith: ali }");
    verigate.child.kill("SIGHUP");
    const rejected = await verigate.waitFor("config rejected; the config in force keeps serving");
    expect(rejected["problems"]).toEqual([
      expect.stringMatching(/^routes\[0\]\.policy\.allow\[0\]\S*: /),
    ]);
    expect(await alice()).toBe(200);
    expect(verigate.child.exitCode).toBeNull();
    const exited = once(verigate.child, "exit") as Promise<[number | null]>;
    verigate.child.kill("SIGTERM");
    expect((await exited)[0]).toBe(0);
  });
});
