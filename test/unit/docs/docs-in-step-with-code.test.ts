import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderConfigSchema } from "../../../src/cli/print-schema.js";
import { REASONS } from "../../../src/policy/reasons.js";

const root = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

describe("documentation kept in step with the code", () => {
  it("README lists every reason code with its status and meaning, in order", () => {
    const readme = readFileSync(root("README.md"), "utf8");
    const table =
      /<!-- reason-codes:start[^>]*-->\n([\s\S]*?)<!-- reason-codes:end -->/.exec(readme)?.[1] ??
      "";
    const rows = table
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    const documented = rows.map(([, code, status, about]) => [
      code?.replaceAll("`", ""),
      Number(status),
      about,
    ]);
    const actual = Object.entries(REASONS).map(([code, r]) => [code, r.status, r.about]);
    expect(documented).toEqual(actual);
  });

  it("config/verigate.schema.json is what `verigate schema` prints (regenerate: npm run docs)", () => {
    expect(readFileSync(root("config/verigate.schema.json"), "utf8")).toBe(renderConfigSchema());
  });
});
