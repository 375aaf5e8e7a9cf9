import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { ConfigProblem } from "./config-problem.js";

/** Reads the files a config names (relative to the config's folder), collecting problems. */
export class ConfigFiles {
  readonly problems: ConfigProblem[] = [];
  /** Every file named so far, read or not (absolute paths): what a reload watches. */
  readonly paths = new Set<string>();
  readonly #base: string;
  readonly #hash = createHash("sha256");

  constructor(configFile: string, configText: string) {
    this.#base = dirname(configFile);
    this.paths.add(resolve(configFile));
    this.#hash.update(configText);
  }

  async read(path: string, where: string): Promise<string | undefined> {
    const bytes = await this.readBytes(path, where);
    return bytes?.toString("utf8");
  }

  /** Reads a file as bytes (a DER CRL is not text). */
  async readBytes(path: string, where: string): Promise<Buffer | undefined> {
    const full = resolve(this.#base, path);
    this.paths.add(full);
    try {
      const content = await readFile(full);
      this.#hash.update(`\0${full}\0`).update(content);
      return content;
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      this.problems.push({ path: where, message: `cannot read "${path}" (${code})` });
      return undefined;
    }
  }

  revision(): string {
    return this.#hash.digest("hex").slice(0, 12);
  }
}
