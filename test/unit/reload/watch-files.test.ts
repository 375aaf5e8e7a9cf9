import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { watchFiles, type FileWatch } from "../../../src/reload/watch-files.js";

describe("watchFiles", () => {
  let dir: string;
  let watch: FileWatch | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-watch-"));
  });
  afterEach(async () => {
    watch?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function countChanges(files: string[]): { count: () => number } {
    let changes = 0;
    watch = watchFiles(
      files,
      50,
      () => changes++,
      (_folder, error) => {
        throw error;
      },
    );
    return { count: () => changes };
  }

  it("sees a file replaced by rename (how editors save), once for several writes", async () => {
    const file = join(dir, "verigate.yaml");
    await writeFile(file, "a: 1\n");
    const changes = countChanges([file]);
    await writeFile(join(dir, ".verigate.yaml.tmp"), "a: 2\n");
    await rename(join(dir, ".verigate.yaml.tmp"), file);
    await writeFile(file, "a: 3\n");
    await expect.poll(changes.count, { timeout: 3000 }).toBe(1);
    // Still watching after the rename replaced the file.
    await writeFile(file, "a: 4\n");
    await expect.poll(changes.count, { timeout: 3000 }).toBe(2);
  });

  it("ignores other files in the same folder", async () => {
    const file = join(dir, "verigate.yaml");
    await writeFile(file, "a: 1\n");
    const changes = countChanges([file]);
    await writeFile(join(dir, "unrelated.txt"), "x");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes.count()).toBe(0);
  });
});
