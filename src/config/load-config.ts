import { readFile } from "node:fs/promises";
import type { z } from "zod";
import type { ConfigProblem } from "./config-problem.js";
import { ConfigError } from "./config-problem.js";
import { parseYamlMapping } from "./parse-yaml.js";
import { configSchema, type ConfigDocument } from "./schema.js";

/** Renders a zod issue path the way a person reads the YAML: `routes[2].match.host`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => `unknown key "${key}"`).join(", ");
    case "invalid_type":
      return issue.message.endsWith("received undefined") ? "is required" : issue.message;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

/** Validates a parsed YAML value against the schema; every problem is reported. */
export function validateConfig(value: unknown): {
  config?: ConfigDocument;
  problems: ConfigProblem[];
} {
  const result = configSchema.safeParse(value);
  if (result.success) return { config: result.data, problems: [] };
  const problems = result.error.issues.map((issue) => ({
    path: formatIssuePath(issue.path),
    message: describeIssue(issue),
  }));
  return { problems };
}

/** Parses YAML text into a plain value; syntax errors become problems with line and column. */
export function parseConfigText(text: string): { value?: unknown; problems: ConfigProblem[] } {
  return parseYamlMapping(text, "the config must be a YAML mapping (listen, tls, routes...)");
}

/** Reads a config file and validates its shape. Throws ConfigError with every problem. */
export async function loadConfigDocument(
  file: string,
): Promise<{ config: ConfigDocument; text: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError([{ path: "", message: `cannot read config file "${file}" (${code})` }]);
  }
  const parsed = parseConfigText(text);
  if (parsed.problems.length > 0) throw new ConfigError(parsed.problems);
  const validated = validateConfig(parsed.value);
  if (validated.config === undefined) throw new ConfigError(validated.problems);
  return { config: validated.config, text };
}
