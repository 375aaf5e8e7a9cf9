/**
 * Policy test files (`verigate test`, `verigate explain --case`): claims in, decision
 * expected. One schema, unknown keys rejected, every problem reported as
 * `path: problem` like the config loader does.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { ConfigProblem } from "../config/config-problem.js";
import { parseYamlMapping } from "../config/parse-yaml.js";
import { ConfigError } from "../config/config-problem.js";
import { parseDuration } from "../config/duration.js";
import { formatIssuePath } from "../config/load-config.js";
import { REASONS, type ReasonCode } from "../policy/reasons.js";

/**
 * A value written as milliseconds or as text that `parse` reads into milliseconds.
 * One transform rather than a union, so that a mistake gets a specific message.
 */
function millisecondsSchema(parse: (text: string) => number | undefined, expected: string) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = typeof value === "number" ? (value >= 0 ? value : undefined) : parse(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected ${expected}, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

/** A duration as configs write it (`2m`, `500ms`) or plain milliseconds. */
const durationSchema = millisecondsSchema(parseDuration, "a duration such as 500ms, 10s or 5m");

/** A point in time: an ISO 8601 text or milliseconds since the epoch. */
const timeSchema = millisecondsSchema((text) => {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}, "an ISO 8601 time or milliseconds since the epoch");

const strings = z.array(z.string());
const rawClaims = z.record(z.string(), z.unknown());

const identitySchema = z.strictObject({
  source: z.enum(["certificate", "token", "attestation", "none"]).optional(),
  subject: z.string().optional(),
  commonName: z.string().optional(),
  emails: strings.optional(),
  dnsNames: strings.optional(),
  spiffeId: z.string().optional(),
  groups: strings.optional(),
  issuer: z.string().optional(),
  certFingerprint: z.string().optional(),
});

const deviceSchema = z.strictObject({
  id: z.string().optional(),
  managed: z.boolean().optional(),
  compliant: z.boolean().optional(),
  os: z.string().optional(),
  osVersion: z.string().optional(),
  diskEncrypted: z.boolean().optional(),
  firewall: z.boolean().optional(),
  screenLock: z.boolean().optional(),
  issuer: z.string().optional(),
  age: durationSchema.optional(),
  claims: rawClaims.optional(),
});

const teeSchema = z.strictObject({
  platform: z.string().optional(),
  measurement: z.string().optional(),
  debug: z.boolean().optional(),
  tcbStatus: z.string().optional(),
  svn: z.number().int().optional(),
  issuer: z.string().optional(),
  age: durationSchema.optional(),
  boundToClientCert: z.boolean().optional(),
  claims: rawClaims.optional(),
});

/** Only what the request line cannot say: method, host and path come from `request:`. */
const requestClaimsSchema = z.strictObject({
  sourceIp: z.string().optional(),
  time: timeSchema.optional(),
});

/** The claims of a case, in the Claims vocabulary; `--claims JSON` uses it too. */
export const caseClaimsSchema = z.strictObject({
  identity: identitySchema.optional(),
  device: deviceSchema.optional(),
  tee: teeSchema.optional(),
  request: requestClaimsSchema.optional(),
});

const requestSchema = z.strictObject({
  host: z.string(),
  path: z.string(),
  method: z.string().min(1).default("GET"),
});

const reasonCodes = Object.keys(REASONS) as [ReasonCode, ...ReasonCode[]];

const expectSchema = z.strictObject({
  decision: z.enum(["allow", "deny"]),
  reasons: z.array(z.enum(reasonCodes)).optional(),
  route: z.string().optional(),
  status: z.number().int().optional(),
});

const caseSchema = z.strictObject({
  name: z.string().min(1),
  request: requestSchema,
  claims: caseClaimsSchema.default({}),
  expect: expectSchema,
});

const caseFileSchema = z.strictObject({
  config: z.string().min(1),
  cases: z.array(caseSchema).min(1),
});

export type CaseClaims = z.output<typeof caseClaimsSchema>;
export type CaseRequest = z.output<typeof requestSchema>;
export type CaseExpectation = z.output<typeof expectSchema>;
export type PolicyCase = z.output<typeof caseSchema>;

/** A validated policy test file. */
export interface CaseFile {
  readonly file: string;
  /** The config it tests, resolved against the case file's folder. */
  readonly configFile: string;
  readonly cases: readonly PolicyCase[];
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

function problemsOf(error: z.ZodError, prefix: string): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = formatIssuePath(issue.path);
    return {
      path: prefix === "" ? path : path === "" ? prefix : `${prefix}.${path}`,
      message: describeIssue(issue),
    };
  });
}

/** Validates a parsed case file; `file` resolves its `config:` path. */
export function validateCaseFile(
  value: unknown,
  file: string,
): { caseFile?: CaseFile; problems: ConfigProblem[] } {
  const result = caseFileSchema.safeParse(value);
  if (!result.success) return { problems: problemsOf(result.error, "") };
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const [i, policyCase] of result.data.cases.entries()) {
    if (seen.has(policyCase.name))
      problems.push({
        path: `cases[${i}].name`,
        message: `duplicate case name "${policyCase.name}"`,
      });
    seen.add(policyCase.name);
  }
  if (problems.length > 0) return { problems };
  const configFile = resolve(dirname(file), result.data.config);
  return { caseFile: { file, configFile, cases: result.data.cases }, problems };
}

/** Validates claims given as JSON text (`explain --claims`); problems are under `--claims`. */
export function parseCaseClaims(text: string): { claims?: CaseClaims; problems: ConfigProblem[] } {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { problems: [{ path: "--claims", message: "not JSON" }] };
  }
  const result = caseClaimsSchema.safeParse(value);
  if (!result.success) return { problems: problemsOf(result.error, "--claims") };
  return { claims: result.data, problems: [] };
}

/** Reads and validates a policy test file. Throws ConfigError listing every problem. */
export async function loadCaseFile(file: string): Promise<CaseFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError([
      { path: "", message: `cannot read policy test file "${file}" (${code})` },
    ]);
  }
  const parsed = parseYamlMapping(
    text,
    "a policy test file must be a YAML mapping with config and cases",
  );
  if (parsed.problems.length > 0) throw new ConfigError(parsed.problems);
  const { caseFile, problems } = validateCaseFile(parsed.value, file);
  if (caseFile === undefined) throw new ConfigError(problems);
  return caseFile;
}
