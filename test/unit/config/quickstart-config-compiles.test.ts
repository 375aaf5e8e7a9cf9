import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSnapshot } from "../../../src/config/compile-config.js";
import { DEV_MEASUREMENT } from "../../../src/dev-pki/dev-measurement.js";
import { writeDevPki } from "../../../src/dev-pki/write-dev-pki.js";

const QUICKSTART = fileURLToPath(new URL("../../../config/quickstart.yaml", import.meta.url));

describe("config/quickstart.yaml", () => {
  let dir: string;
  beforeAll(async () => {
    // The same layout npm start makes: config/ beside .quickstart/pki/.
    dir = await mkdtemp(join(tmpdir(), "verigate-quickstart-"));
    await mkdir(join(dir, "config"));
    await copyFile(QUICKSTART, join(dir, "config", "quickstart.yaml"));
    await writeDevPki(join(dir, ".quickstart", "pki"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("compiles against the dev PKI npm start writes", async () => {
    const snapshot = await loadSnapshot(join(dir, "config", "quickstart.yaml"));
    expect(snapshot.routes.map((r) => r.name)).toEqual(["demo-payroll", "demo-admin", "demo"]);
    for (const route of snapshot.routes) route.upstream.agent.destroy();
  });

  it("allowlists the measurement the dev PKI and dev-token state", async () => {
    expect(await readFile(QUICKSTART, "utf8")).toContain(DEV_MEASUREMENT);
    const example = fileURLToPath(
      new URL("../../../examples/payroll-attestation.yaml", import.meta.url),
    );
    expect(await readFile(example, "utf8")).toContain(DEV_MEASUREMENT);
  });
});
