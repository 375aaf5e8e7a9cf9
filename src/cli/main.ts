#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runCheck } from "./check.js";
import { runDevPki } from "./dev-pki.js";
import { runDevToken } from "./dev-token.js";
import { runExplainCase, runExplainRequest } from "./explain-command.js";
import { runQuickstart } from "./quickstart.js";
import { renderConfigSchema } from "./print-schema.js";
import { runReplay } from "./replay-command.js";
import { runRevoke } from "./revoke-command.js";
import { runServe } from "./serve.js";
import { runTest } from "./test-command.js";

const USAGE = `verigate: a zero-trust access proxy

usage:
  verigate serve --config FILE     run the proxy (SIGTERM/SIGINT drain and exit)
  verigate check --config FILE     validate and compile a config (exit 0, or 1 with path: problem lines)
  verigate dev-pki --out DIR [--client NAME [--claims JSON]]
                                   make a throwaway CA, server and client certificates, and a
                                   throwaway attestation service; --client adds one more client
                                   whose certificate carries the claims {"device":{..},"tee":{..}}
  verigate dev-token --pki DIR --client NAME [--platform sev-snp|tdx] [--measurement HEX]
                   [--debug] [--nonce N] [--unbound] [--lifetime SECONDS]
                                   print a dev attestation token bound to NAME's certificate
  verigate test FILE...            run policy test cases (claims in, decision expected); prints a
                                   FAIL line per failing case, then "N passed, N failed" (exit 0 all pass)
  verigate explain --config FILE --host H --path P [--method M] [--claims JSON]
  verigate explain --case FILE [--name CASE]
                                   show the route chosen, every rule and criterion with its actual
                                   value, and the decision
  verigate replay --config NEW --log AUDIT.log
                                   re-decide the audit log's recorded decisions against a new
                                   config; prints the flips (allow -> deny, deny -> allow) by
                                   route and reason, then the counts (exit 0)
  verigate revoke --fingerprint SHA256HEX [--config FILE]
                                   refuse a client certificate everywhere (needs state.redis;
                                   default config /etc/verigate/verigate.yaml)
  verigate quickstart              dev PKI + demo upstream + proxy on loopback (what npm start runs)
  verigate schema                  print the JSON Schema of the config file (for editors)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      config: { type: "string" },
      out: { type: "string" },
      pki: { type: "string" },
      client: { type: "string" },
      platform: { type: "string" },
      measurement: { type: "string" },
      debug: { type: "boolean" },
      nonce: { type: "string" },
      unbound: { type: "boolean" },
      lifetime: { type: "string" },
      claims: { type: "string" },
      host: { type: "string" },
      path: { type: "string" },
      method: { type: "string" },
      case: { type: "string" },
      name: { type: "string" },
      log: { type: "string" },
      fingerprint: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: command === "test",
  });
  const need = (
    name: "config" | "out" | "pki" | "client" | "host" | "path" | "log" | "fingerprint",
  ): string => {
    const value = values[name];
    if (value === undefined) throw new UsageError(`verigate ${command}: --${name} is required`);
    return value;
  };
  switch (command) {
    case "serve":
      return runServe(need("config"));
    case "check":
      return runCheck(need("config"));
    case "dev-pki":
      return runDevPki(need("out"), values.client, values.claims);
    case "dev-token":
      return runDevToken({ ...values, pki: need("pki"), client: need("client") });
    case "test":
      if (positionals.length === 0)
        throw new UsageError("verigate test: give at least one policy test FILE");
      return runTest(positionals);
    case "explain":
      if (values.case !== undefined) return runExplainCase(values.case, values.name, values.config);
      return runExplainRequest({
        config: need("config"),
        host: need("host"),
        path: need("path"),
        method: values.method,
        claims: values.claims,
      });
    case "replay":
      return runReplay({ config: need("config"), log: need("log") });
    case "revoke":
      return runRevoke(need("fingerprint"), values.config);
    case "quickstart":
      return runQuickstart();
    case "schema":
      process.stdout.write(renderConfigSchema());
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new UsageError(`verigate: unknown command "${command}"`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message}\n`);
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      process.stderr.write(`\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.exitCode = 1;
    }
  },
);
