import { readFile, writeFile } from "node:fs/promises";
import { expect } from "vitest";
import { createLogger } from "../../src/audit/logger.js";
import { startReloader, type Reloader } from "../../src/reload/reloader.js";
import type { GatewayHarness } from "./gateway-harness.js";

/** One route, any host, allowing alice only: the config the reload tests edit. */
export const ALICE_ONLY_ROUTE = `routes:
  - name: app
    upstream: "{{upstream}}"
    policy: { allow: [ { identity.commonName: alice } ] }
`;

/** A reloader on the harness's gateway, logging into the harness's audit capture. */
export function reloaderFor(h: GatewayHarness): Reloader {
  return startReloader(h.gateway, createLogger({ destination: h.audit }));
}

/** Rewrites the harness's config file, replacing `from` (which must occur) with `to`. */
export async function editConfig(h: GatewayHarness, from: string, to: string): Promise<void> {
  const text = await readFile(h.configFile, "utf8");
  expect(text).toContain(from);
  await writeFile(h.configFile, text.replace(from, to));
}
