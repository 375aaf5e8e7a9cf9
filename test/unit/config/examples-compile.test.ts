import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSnapshot } from "../../../src/config/compile-config.js";
import { writeDevPki } from "../../../src/dev-pki/write-dev-pki.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));

describe("the shipped example configs", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-examples-"));
    // The examples name a dev PKI under pki/ beside them, as `verigate dev-pki --out pki` writes it.
    await writeDevPki(join(dir, "pki"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("compile", async () => {
    const configs = (await readdir(EXAMPLES)).filter((name) => name.endsWith(".yaml"));
    expect(configs.length).toBeGreaterThan(0);
    for (const name of configs) {
      await copyFile(join(EXAMPLES, name), join(dir, name));
      const snapshot = await loadSnapshot(join(dir, name));
      expect(snapshot.routes.length).toBeGreaterThan(0);
      for (const route of snapshot.routes) route.upstream.agent.destroy();
    }
  });
});
