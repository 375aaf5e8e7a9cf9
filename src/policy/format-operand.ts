/**
 * How config values appear in text: in criterion traces (`tee.platform in [sev-snp, tdx]`)
 * and in problem messages (`expected a string, got 5`). Never throws, whatever the
 * value, because it runs on unvalidated config.
 */

const MAX_TEXT = 60;

function shorten(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}...` : text;
}

/** Writes an operand the way it reads in YAML: `finance`, `[sev-snp, tdx]`, `5m`. */
export function formatOperand(operand: unknown): string {
  if (Array.isArray(operand)) return `[${operand.map(formatOperand).join(", ")}]`;
  if (operand instanceof Date) return describeOperand(operand);
  if (typeof operand === "string") return operand;
  if (operand === null || typeof operand !== "object") return String(operand);
  return "{...}";
}

/** Names what was found where something else was expected: `"abc"`, `5`, `a list`. */
export function describeOperand(operand: unknown): string {
  if (typeof operand === "string") return shorten(JSON.stringify(operand));
  if (Array.isArray(operand)) return "a list";
  if (operand === null) return "null";
  if (operand === undefined) return "nothing";
  if (operand instanceof Date)
    return Number.isNaN(operand.getTime()) ? "an invalid date" : operand.toISOString();
  if (typeof operand === "object") return "a mapping";
  if (typeof operand === "number" || typeof operand === "boolean" || typeof operand === "bigint") {
    return shorten(String(operand));
  }
  return `a ${typeof operand}`;
}
