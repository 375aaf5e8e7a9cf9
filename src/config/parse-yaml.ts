import { isMap, parseDocument } from "yaml";
import type { ConfigProblem } from "./config-problem.js";

/**
 * Parses YAML text that must hold a mapping (a config, a policy test file) into a
 * plain value. Duplicate keys are errors and alias expansion is bounded (billion
 * laughs); syntax errors become problems with line and column. `notAMapping` is
 * the problem reported when the document is something else.
 */
export function parseYamlMapping(
  text: string,
  notAMapping: string,
): { value?: unknown; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => {
        const at = error.linePos?.[0];
        const where = at === undefined ? "" : `line ${at.line}, column ${at.col}`;
        // prettyErrors appends " at line L, column C:" and a snippet; the position goes in the path.
        const message = (error.message.split("\n")[0] ?? "").replace(
          / at line \d+, column \d+:?$/,
          "",
        );
        return { path: where, message };
      }),
    };
  }
  if (!isMap(doc.contents)) return { problems: [{ path: "", message: notAMapping }] };
  return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, problems: [] };
}
