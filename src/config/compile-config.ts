import { compilePolicy } from "../policy/compile-policy.js";
import { canonicalizePathPrefix } from "../proxy/canonical-path.js";
import { canonicalizeRouteHost } from "../proxy/host.js";
import { buildRouteTable, type RouteTableEntry } from "../proxy/route-table.js";
import { closeUpstream, parseUpstream } from "../proxy/upstream.js";
import { checkTlsMaterial } from "../tls/tls-material.js";
import { EvidenceCache } from "../claims/evidence/evidence-claims.js";
import { TokenVerifier, type TokenTelemetry } from "../claims/tokens/token-verifier.js";
import { ConfigFiles } from "./config-files.js";
import { ATTESTATION_TOKEN_HEADER, EVIDENCE_HEADER } from "../claims/build-claims.js";
import { compileIssuers, type CompiledIssuers } from "./compile-issuers.js";
import type { ConfigProblem } from "./config-problem.js";
import { ConfigError } from "./config-problem.js";
import { deepFreeze } from "./deep-freeze.js";
import { loadConfigDocument } from "./load-config.js";
import type { ConfigDocument, LimitsDocument, RouteDocument } from "./schema.js";
import type { CompiledRoute, Snapshot } from "./snapshot.js";

/** What a route is compiled against: the measurement lists, the token headers by issuer, the limits. */
interface RouteContext {
  readonly lists: ReadonlyMap<string, readonly string[]>;
  readonly tokenHeaders: ReadonlyMap<string, string>;
  readonly limits: LimitsDocument;
}

async function compileRoute(
  route: RouteDocument,
  where: string,
  context: RouteContext,
  files: ConfigFiles,
): Promise<{
  compiled?: CompiledRoute;
  entry?: Omit<RouteTableEntry<CompiledRoute>, "value">;
  problems: ConfigProblem[];
}> {
  const problems: ConfigProblem[] = [];
  const { lists } = context;
  let host: string | undefined;
  if (route.match.host !== undefined) {
    const checked = canonicalizeRouteHost(route.match.host);
    if (checked.ok) host = checked.host;
    else problems.push({ path: `${where}.match.host`, message: checked.problem });
  }
  const prefix = canonicalizePathPrefix(route.match.pathPrefix);
  if (!prefix.ok) problems.push({ path: `${where}.match.pathPrefix`, message: prefix.problem });

  const ca =
    route.upstreamCA === undefined
      ? undefined
      : await files.read(route.upstreamCA, `${where}.upstreamCA`);
  const upstream = parseUpstream(route.upstream, ca);
  if ("problem" in upstream)
    problems.push({ path: `${where}.upstream`, message: upstream.problem });

  const { policy, problems: policyProblems } = compilePolicy(route.policy, {
    path: `${where}.policy`,
    route: route.name,
    lists,
  });
  problems.push(...policyProblems);
  const candidate =
    route.candidate === undefined
      ? undefined
      : compilePolicy(route.candidate, { path: `${where}.candidate`, route: route.name, lists });
  problems.push(...(candidate?.problems ?? []));
  const passHeaders = new Set<string>();
  for (const [i, issuer] of route.passTokens.entries()) {
    const header = context.tokenHeaders.get(issuer);
    if (header === undefined) {
      problems.push({
        path: `${where}.passTokens[${i}]`,
        message: `"${issuer}" is not a token issuer (issuers with jwks)`,
      });
    } else passHeaders.add(header);
  }

  if (problems.length > 0 || policy === undefined || !prefix.ok || "problem" in upstream)
    return { problems };
  return {
    compiled: {
      name: route.name,
      where,
      identity: route.identity,
      mode: route.mode,
      preserveHost: route.preserveHost,
      maxBodyBytes: route.maxBodyBytes ?? context.limits.maxBodyBytes,
      passHeaders,
      upstream: upstream.upstream,
      policy,
      candidate: candidate?.policy,
    },
    entry: { host, pathPrefix: prefix.prefix, where },
    problems,
  };
}

/**
 * Headers that say who a request is from or where it goes. Two of one are
 * ambiguous (proxies and upstreams pick different ones), so a request carrying one
 * twice is refused.
 */
function singletonHeaders(issuers: CompiledIssuers): ReadonlySet<string> {
  return new Set([
    "host",
    "authorization",
    "proxy-authorization",
    "content-length",
    "transfer-encoding",
    EVIDENCE_HEADER,
    ATTESTATION_TOKEN_HEADER,
    ...issuers.tokens.map((issuer) => issuer.header),
  ]);
}

/** What compiling may be given: the load time (default now) and where token metrics go. */
export interface CompileOptions {
  readonly now?: Date;
  readonly telemetry?: TokenTelemetry;
}

/**
 * Compiles a validated config into a frozen snapshot: reads and checks every file
 * it names, compiles every route's matchers and policy, builds the route table.
 * Every problem is reported; a snapshot exists only when there are none.
 */
export async function compileConfig(
  config: ConfigDocument,
  text: string,
  file: string,
  options: CompileOptions = {},
): Promise<{ snapshot?: Snapshot; problems: ConfigProblem[] }> {
  const now = options.now ?? new Date();
  const files = new ConfigFiles(file, text);
  const problems: ConfigProblem[] = [];

  const cert = await files.read(config.tls.cert, "tls.cert");
  const key = await files.read(config.tls.key, "tls.key");
  const clientCAs = await files.read(config.tls.clientCAs, "tls.clientCAs");
  const crl =
    config.tls.crl === undefined ? undefined : await files.read(config.tls.crl, "tls.crl");
  const crlReadable = config.tls.crl === undefined || crl !== undefined;
  if (cert !== undefined && key !== undefined && clientCAs !== undefined && crlReadable) {
    problems.push(...(await checkTlsMaterial({ cert, key, clientCAs, crl }, now)));
  }

  const assertionKeyPem =
    config.assertion.key === undefined
      ? undefined
      : await files.read(config.assertion.key, "assertion.key");
  if (config.assertion.key !== undefined && config.assertion.rotateEvery !== undefined) {
    problems.push({
      path: "assertion.rotateEvery",
      message: "not with assertion.key: a configured key is not rotated",
    });
  }

  // Memory state is per process: a nonce issued by one worker would be unknown to the others.
  if (config.workers !== 1 && config.state === "memory") {
    problems.push({
      path: "workers",
      message: `${config.workers} workers need state.redis: with state memory, nonces and revocations are per worker`,
    });
  }
  // A key made at start is made by each worker: an upstream would know only the JWKS of the worker it asked.
  if (config.workers !== 1 && config.assertion.key === undefined) {
    problems.push({
      path: "assertion.key",
      message: `is needed with ${config.workers} workers: made keys differ per worker, and upstreams must verify every worker's assertions`,
    });
  }

  const { issuers, problems: issuerProblems } = await compileIssuers(
    config.issuers,
    config.limits,
    files,
    now.getTime(),
  );
  problems.push(...issuerProblems);

  const routeContext: RouteContext = {
    lists: new Map(Object.entries(config.measurements)),
    tokenHeaders: new Map(issuers.tokens.map((issuer) => [issuer.name, issuer.header])),
    limits: config.limits,
  };
  const names = new Set<string>();
  const compiled: CompiledRoute[] = [];
  const entries: RouteTableEntry<CompiledRoute>[] = [];
  for (const [i, route] of config.routes.entries()) {
    const where = `routes[${i}]`;
    if (names.has(route.name))
      problems.push({ path: `${where}.name`, message: `duplicate route name "${route.name}"` });
    names.add(route.name);
    const result = await compileRoute(route, where, routeContext, files);
    problems.push(...result.problems);
    if (result.compiled !== undefined && result.entry !== undefined) {
      compiled.push(result.compiled);
      entries.push({ ...result.entry, value: result.compiled });
    }
  }
  const { table, problems: tableProblems } = buildRouteTable(entries);
  problems.push(...tableProblems);
  problems.unshift(...files.problems);

  if (problems.length > 0 || cert === undefined || key === undefined || clientCAs === undefined) {
    for (const route of compiled) closeUpstream(route.upstream);
    return { problems };
  }
  const snapshot: Snapshot = {
    revision: files.revision(),
    file,
    files: [...files.paths],
    listen: config.listen,
    admin: config.admin,
    tls: {
      cert,
      key,
      clientCAs,
      crl,
      minVersion: config.tls.minVersion,
      allowMissingEku: config.tls.unsafeAllowClientCertWithoutEku,
    },
    limits: config.limits,
    assertion: {
      keyPem: assertionKeyPem,
      rotateEveryMs: config.assertion.rotateEvery,
      issuer: config.assertion.issuer,
      reuseForMs: config.assertion.reuseFor,
    },
    proxy: config.proxy,
    reload: config.reload,
    state: config.state,
    workers: config.workers,
    issuers,
    singletonHeaders: singletonHeaders(issuers),
    tokens: new TokenVerifier(options.telemetry),
    evidenceCache: new EvidenceCache(),
    routes: compiled,
    routeTable: table,
  };
  return { snapshot: deepFreeze(snapshot), problems };
}

/** Loads, validates and compiles a config file. Throws ConfigError listing every problem. */
export async function loadSnapshot(file: string, options: CompileOptions = {}): Promise<Snapshot> {
  const { config, text } = await loadConfigDocument(file);
  const { snapshot, problems } = await compileConfig(config, text, file, options);
  if (snapshot === undefined) throw new ConfigError(problems);
  return snapshot;
}
