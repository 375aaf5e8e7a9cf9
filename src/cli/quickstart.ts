import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";
import { createLogger } from "../audit/logger.js";
import { writeDevPki } from "../dev-pki/write-dev-pki.js";
import { startDemoUpstream } from "./demo-upstream.js";
import { serveUntilStopped, startFromConfig } from "./serve.js";

/** The package root: dist/cli/main.js lives two folders below it. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEMO_UPSTREAM_PORT = 9001;

/**
 * `npm start`: a fresh dev PKI under .quickstart/ (git-ignored), the demo upstream
 * on 127.0.0.1:9001 and verigate with config/quickstart.yaml on 127.0.0.1:8443.
 */
export async function runQuickstart(): Promise<number> {
  const pki = await writeDevPki(join(ROOT, ".quickstart", "pki"));
  const upstream = await startDemoUpstream(DEMO_UPSTREAM_PORT);
  const logger = createLogger();
  const gateway = await startFromConfig(join(ROOT, "config", "quickstart.yaml"), logger);
  if (gateway === undefined) {
    upstream.close();
    return 1;
  }
  const rel = (path: string): string => relative(process.cwd(), path) || ".";
  const curl = `curl --cacert ${rel(pki.ca)}`;
  const as = (who: "alice" | "bob" | "carol"): string =>
    `--cert ${rel(pki.clients[who].cert)} --key ${rel(pki.clients[who].key)}`;
  console.log(`
verigate quickstart: proxy on https://localhost:8443, demo upstream on 127.0.0.1:${DEMO_UPSTREAM_PORT},
admin on http://127.0.0.1:9090. Policy: config/quickstart.yaml. Audit lines are the JSON on stdout.

  allowed (alice may read the app):
    ${curl} ${as("alice")} https://localhost:8443/hello
  denied by policy, 403 (only alice may use /admin/):
    ${curl} ${as("bob")} https://localhost:8443/admin/users
  no client certificate, 401:
    ${curl} https://localhost:8443/hello
  an approved confidential VM (carol, with a fresh attestation token bound to her certificate):
    ${curl} ${as("carol")} -H "x-attestation-token: $(npx verigate dev-token --pki ${rel(pki.dir)} --client carol)" https://localhost:8443/payroll/run
  the same VM with debugging on, 403 (add --measurement <hex> or --unbound to see other refusals):
    ${curl} ${as("carol")} -H "x-attestation-token: $(npx verigate dev-token --pki ${rel(pki.dir)} --client carol --debug)" https://localhost:8443/payroll/run
  no route for this host, 404:
    ${curl} ${as("alice")} https://127.0.0.1:8443/
  Host naming another server than the TLS connection was made for (SNI), 421:
    ${curl} ${as("alice")} -H 'Host: elsewhere.localhost' https://localhost:8443/

  readiness:  curl http://127.0.0.1:9090/readyz
  check a config:  npx verigate check --config config/quickstart.yaml
  edit config/quickstart.yaml and save: verigate reloads it (or rejects it and keeps serving)

Ctrl-C stops it.
`);
  const code = await serveUntilStopped(gateway, logger);
  upstream.close();
  return code;
}
