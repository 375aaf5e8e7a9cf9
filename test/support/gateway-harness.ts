import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/audit/logger.js";
import { GatewayMetrics } from "../../src/audit/metrics.js";
import { loadSnapshot } from "../../src/config/compile-config.js";
import { createGateway, type Gateway } from "../../src/server.js";
import { AuditCapture } from "./audit-capture.js";
import { startEchoUpstream, type EchoUpstream } from "./echo-upstream.js";
import { createTestPki, writeTestPki, type TestPki, type TestPkiFiles } from "./pki.js";

/**
 * `VERIGATE_TEST_ENGINE=http-proxy-3` (or `undici`) runs every harness-based test on that
 * forwarding engine (`npm run test:http-proxy-3`); a test whose `extra` sets `proxy:` keeps its own.
 */
const ENGINE_UNDER_TEST = ["http-proxy-3", "undici"].find(
  (engine) => engine === process.env["VERIGATE_TEST_ENGINE"],
);

export interface GatewayHarness {
  readonly pki: TestPki;
  readonly files: TestPkiFiles;
  readonly upstream: EchoUpstream;
  readonly gateway: Gateway;
  readonly port: number;
  readonly adminPort: number;
  readonly audit: AuditCapture;
  readonly configFile: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The `routes:` section (and anything after it), as YAML. `{{upstream}}` is replaced by the echo upstream's URL. */
  readonly routes: string;
  /** Extra top-level YAML (limits, measurements, issuers...); `{{...}}` placeholders as in `routes`. */
  readonly extra?: string;
  /** Files written beside the config first (name -> content, text or bytes), e.g. a JWKS for `jwks.file`. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /**
   * When the config is compiled (default now). TDX collateral is checked for
   * staleness at load; real vectors' collateral needs a load time inside its window.
   */
  readonly loadedAt?: Date;
  /** Extra keys under `tls:` (indented two spaces). */
  readonly tls?: string;
  /** Whether `tls.crl` names the test CRL (which revokes `clients.revoked`). Default true. */
  readonly crl?: boolean;
  /** The gateway's clock (ms); real attestation vectors need a fixed "now". */
  readonly now?: () => number;
  /** Serve the echo upstream over TLS with the test server certificate (`{{upstreamCA}}` names its CA file). */
  readonly upstreamTls?: boolean;
  /** Reuse a PKI (several gateways trusting the same clients); default: a new one. */
  readonly pki?: TestPki;
}

/**
 * A real verigate on 127.0.0.1 port 0, from a real config file naming a PKI
 * generated at test time, in front of a real echo upstream. Nothing is mocked.
 */
export async function startGateway(options: HarnessOptions): Promise<GatewayHarness> {
  const dir = await mkdtemp(join(tmpdir(), "verigate-test-"));
  const pki = options.pki ?? (await createTestPki());
  const files = await writeTestPki(pki, join(dir, "pki"));
  const upstream = await startEchoUpstream(
    options.upstreamTls === true
      ? { tls: { cert: pki.server.certPem, key: pki.server.keyPem } }
      : {},
  );
  const configFile = join(dir, "verigate.yaml");
  for (const [name, content] of Object.entries(options.files ?? {}))
    await writeFile(join(dir, name), content);
  const fill = (yaml: string): string =>
    yaml
      .replaceAll("{{upstream}}", upstream.url)
      .replaceAll("{{upstreamCA}}", files.clientCAs)
      .replaceAll("{{attestationCA}}", files.attestationCa);
  const yaml = `listen: { address: 127.0.0.1, port: 0 }
admin: { address: 127.0.0.1, port: 0 }
tls:
  cert: ${files.server.cert}
  key: ${files.server.key}
  clientCAs: ${files.clientCAs}
${options.crl === false ? "" : `  crl: ${files.crl}\n`}${options.tls ?? ""}
${ENGINE_UNDER_TEST === undefined || /^proxy:/m.test(options.extra ?? "") ? "" : `proxy: { engine: ${ENGINE_UNDER_TEST} }`}
${fill(options.extra ?? "")}
${fill(options.routes)}
`;
  await writeFile(configFile, yaml);
  const metrics = new GatewayMetrics();
  const snapshot = await loadSnapshot(configFile, {
    telemetry: metrics,
    ...(options.loadedAt === undefined ? {} : { now: options.loadedAt }),
  });
  const audit = new AuditCapture();
  const gateway = createGateway(snapshot, createLogger({ destination: audit }), {
    metrics,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const { port, adminPort } = await gateway.listen();
  return {
    pki,
    files,
    upstream,
    gateway,
    port,
    adminPort,
    audit,
    configFile,
    async close() {
      await gateway.close(100);
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
