import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoUpstream, type EchoUpstream } from "../support/echo-upstream.js";
import { mtlsRequest } from "../support/mtls-client.js";
import { createTestPki, writeTestPki, type TestPki } from "../support/pki.js";
import { startVerigateProcess, type VerigateProcess } from "../support/verigate-process.js";

describe("verigate serve and SIGTERM", () => {
  let dir: string;
  let pki: TestPki;
  let upstream: EchoUpstream;
  let verigate: VerigateProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-sigterm-"));
    pki = await createTestPki();
    const files = await writeTestPki(pki, join(dir, "pki"));
    upstream = await startEchoUpstream();
    const config = join(dir, "verigate.yaml");
    await writeFile(
      config,
      `listen: { address: 127.0.0.1, port: 0 }
admin: { address: 127.0.0.1, port: 0 }
tls: { cert: ${files.server.cert}, key: ${files.server.key}, clientCAs: ${files.clientCAs} }
routes:
  - name: app
    upstream: "${upstream.url}"
    policy: { allow: [ { identity.commonName: alice } ] }
`,
    );
    verigate = await startVerigateProcess(config);
  });
  afterAll(async () => {
    if (verigate.child.exitCode === null) verigate.child.kill("SIGKILL");
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a request's audit line to stdout promptly", async () => {
    const res = await mtlsRequest({
      port: verigate.port,
      pki,
      as: pki.clients.alice,
      path: "/one",
    });
    expect(res.status).toBe(200);
    const asked = Date.now();
    const line = await verigate.waitFor("decision");
    // At once, with room for a busy machine.
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(line).toMatchObject({
      path: "/one",
      status: 200,
      requestId: res.headers["x-request-id"],
    });
  });

  it("lets an in-flight request finish, then exits 0", async () => {
    const inFlight = mtlsRequest({
      port: verigate.port,
      pki,
      as: pki.clients.alice,
      path: "/delay/1",
    });
    await expect.poll(() => upstream.seen.some((s) => s.url === "/delay/1")).toBe(true);
    const exited = once(verigate.child, "exit") as Promise<[number | null, string | null]>;
    const outputClosed = once(verigate.child.stdout as NodeJS.ReadableStream, "close");
    verigate.child.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe("late but complete");
    const [code] = await exited;
    expect(code).toBe(0);
    // Nothing waiting to be written is lost at exit: the last request's line is there.
    await outputClosed;
    await new Promise((resolve) => setImmediate(resolve));
    expect(verigate.lines.filter((line) => line["msg"] === "decision").at(-1)).toMatchObject({
      path: "/delay/1",
      status: 200,
      requestId: res.headers["x-request-id"],
    });
  });
});
