// Regenerates the documents kept in step with the code (npm run docs, after a build):
// config/verigate.schema.json, and the reason-code table in README.md.
import { readFileSync, writeFileSync } from "node:fs";
import { renderConfigSchema } from "../dist/cli/print-schema.js";
import { REASONS } from "../dist/policy/reasons.js";

writeFileSync(new URL("../config/verigate.schema.json", import.meta.url), renderConfigSchema());

const readmeUrl = new URL("../README.md", import.meta.url);
const readme = readFileSync(readmeUrl, "utf8");
const start = readme.indexOf("<!-- reason-codes:start");
const startEnd = readme.indexOf("-->", start) + 3;
const end = readme.indexOf("<!-- reason-codes:end -->");
const rows = Object.entries(REASONS)
  .map(([code, reason]) => `| \`${code}\` | ${reason.status} | ${reason.about} |`)
  .join("\n");
const table = `\n| code | status | meaning |\n| --- | --- | --- |\n${rows}\n`;
writeFileSync(readmeUrl, readme.slice(0, startEnd) + table + readme.slice(end));
