import { configJsonSchema } from "../config/schema.js";

/** The committed JSON Schema text (config/verigate.schema.json), exactly. */
export function renderConfigSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
