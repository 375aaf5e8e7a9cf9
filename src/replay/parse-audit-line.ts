/**
 * One line of an audit log, read back for `verigate replay`. A line is untrusted
 * text (a log may be truncated, edited or mixed with other output): it is parsed
 * and validated here, and anything that does not fit is reported as unreadable,
 * never thrown.
 *
 * @module
 */

import { z } from "zod";
import { caseClaimsSchema, type CaseClaims, type CaseRequest } from "../policy-cases/load-cases.js";

/** A recorded decision, as `verigate replay` compares it. */
export interface RecordedDecision {
  readonly requestId: string;
  readonly revision: string;
  /** The route that decided; `""` when none matched. */
  readonly route: string;
  /**
   * The verdict as if enforcing: `deny` for what an audit-mode route forwarded but
   * would have denied (`wouldDeny`), so that replay compares policies, not modes.
   */
  readonly effect: "allow" | "deny";
  /** The recorded reason codes, as logged. */
  readonly reasons: readonly string[];
  /** The rule that decided (`allow[0]`), when one did. */
  readonly rule?: string;
  /** Method, canonical host and canonical path (the query is never logged). */
  readonly request: CaseRequest;
  /**
   * What the route table, identity gate and policy decided from (the line's `input`
   * and `sourceIp`); absent when the request was refused before (malformed request,
   * invalid credential) or was one of verigate's own endpoints.
   */
  readonly claims?: CaseClaims;
}

/** What one non-blank line of an audit log is. */
export type AuditLogEntry =
  | { readonly kind: "decision"; readonly decision: RecordedDecision }
  /** Not a JSON object, or a decision line with a missing or malformed field. */
  | { readonly kind: "unreadable"; readonly lineNumber: number; readonly problem: string }
  /** A JSON log line about something else (startup, errors): not a decision. */
  | { readonly kind: "other" };

const claimSchemas = caseClaimsSchema.shape;

/** `DecisionInput` (src/audit/audit-record.ts), in the policy test vocabulary. */
const inputSchema = z.strictObject({
  identity: claimSchemas.identity.unwrap().required({ source: true }),
  device: claimSchemas.device,
  tee: claimSchemas.tee,
  time: z.number().int().nonnegative(),
});

/** The fields of a decision line that replay reads; others are ignored. */
const decisionLineSchema = z.object({
  requestId: z.string().min(1),
  revision: z.string(),
  route: z.string(),
  decision: z.enum(["allow", "deny"]),
  reasons: z.array(z.string()),
  rule: z.string().optional(),
  method: z.string(),
  host: z.string(),
  path: z.string(),
  sourceIp: z.string(),
  wouldDeny: z.boolean().optional(),
  input: inputSchema.optional(),
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid";
  const path = issue.path.map(String).join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

/**
 * Reads one line of an audit log; undefined for a blank line. `lineNumber` (from 1)
 * names an unreadable line in the report.
 */
export function parseAuditLine(text: string, lineNumber: number): AuditLogEntry | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { kind: "unreadable", lineNumber, problem: "not JSON" };
  }
  if (!isObject(value)) return { kind: "unreadable", lineNumber, problem: "not a JSON object" };
  if (value["msg"] !== "decision") return { kind: "other" };
  const parsed = decisionLineSchema.safeParse(value);
  if (!parsed.success)
    return { kind: "unreadable", lineNumber, problem: describeProblem(parsed.error) };
  const line = parsed.data;
  const { input } = line;
  const claims: CaseClaims | undefined =
    input === undefined
      ? undefined
      : {
          identity: input.identity,
          ...(input.device === undefined ? {} : { device: input.device }),
          ...(input.tee === undefined ? {} : { tee: input.tee }),
          request: { sourceIp: line.sourceIp, time: input.time },
        };
  return {
    kind: "decision",
    decision: {
      requestId: line.requestId,
      revision: line.revision,
      route: line.route,
      effect: line.wouldDeny === true ? "deny" : line.decision,
      reasons: line.reasons,
      ...(line.rule === undefined ? {} : { rule: line.rule }),
      request: { method: line.method, host: line.host, path: line.path },
      ...(claims === undefined ? {} : { claims }),
    },
  };
}
