import { z } from "zod";
import { parseDuration } from "./duration.js";

/**
 * The configuration file's shape: one schema, unknown keys rejected everywhere,
 * secure defaults written here and nowhere else. Cross-field checks and
 * everything that reads files happen later, in compile-config.ts.
 */

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `"${text}" is not a duration (write 500ms, 10s, 5m, 1h)`,
    });
    return z.NEVER;
  }
  return ms;
});

const port = z.number().int().min(0).max(65_535);
const address = z.string().min(1);
const filePath = z.string().min(1);

const listenSchema = z.strictObject({
  address: address.default("0.0.0.0"),
  port: port.default(8443),
});

const tlsSchema = z.strictObject({
  /** The server certificate (chain) and its private key, PEM. */
  cert: filePath,
  key: filePath,
  /** Trust anchors for client certificates. Required: verigate always asks for one. */
  clientCAs: filePath,
  /** CRLs for client certificates, PEM; must cover every CA in clientCAs. */
  crl: filePath.optional(),
  minVersion: z.enum(["TLSv1.2", "TLSv1.3"]).default("TLSv1.2"),
  /**
   * OpenSSL accepts a client certificate without an extendedKeyUsage extension;
   * verigate does not, unless this is set.
   */
  unsafeAllowClientCertWithoutEku: z.boolean().default(false),
});

const adminSchema = z.strictObject({
  address: address.default("127.0.0.1"),
  port: port.default(9090),
});

const limitsSchema = z.strictObject({
  headersTimeout: duration.default(10_000),
  requestTimeout: duration.default(30_000),
  handshakeTimeout: duration.default(10_000),
  /** From sending the request upstream to the end of the upstream's response head (504 after). */
  upstreamTimeout: duration.default(30_000),
  /** Connecting to the upstream (TCP, and TLS for https upstreams); 504 after. */
  upstreamConnectTimeout: duration.default(5_000),
  /** Fetching a remote JWKS. */
  keyFetchTimeout: duration.default(5_000),
  /** Default tolerance for token times (exp, nbf, iat). */
  clockSkew: duration.default(60_000),
  /** How long a nonce from POST /.well-known/verigate/nonce stays redeemable. */
  nonceTtl: duration.default(120_000),
  /** Idle time allowed between requests on a kept-alive client connection. */
  idleTimeout: duration.default(60_000),
  maxHeaderBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  /** More header fields than this gets 431 (Node alone would silently drop those past ~1000). */
  maxHeaderCount: z.number().int().min(8).max(10_000).default(100),
  /** Largest request body a route accepts (413 beyond); a route may set its own `maxBodyBytes`. */
  maxBodyBytes: z
    .number()
    .int()
    .min(0)
    .default(10 * 1024 * 1024),
  maxConnections: z.number().int().min(1).default(10_000),
  /** Requests on one client connection before verigate closes it (`Connection: close`). */
  maxRequestsPerConnection: z.number().int().min(1).default(1_000),
  /** Requests being handled at once; beyond, new ones get 503 at once (load shedding). */
  maxInFlight: z.number().int().min(1).default(1_024),
});

/** Asymmetric JWS algorithms only: a shared-secret algorithm would let a public key sign. */
export const TOKEN_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

export const ISSUER_KINDS = ["identity", "posture", "attestation"] as const;
export const ATTESTATION_PROFILE_NAMES = [
  "azure-maa",
  "intel-trust-authority",
  "gcp-confidential-space",
  "veraison-ear",
  "generic",
] as const;

const issuerSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1-63 of a-z 0-9 . _ -"),
  kind: z.enum(ISSUER_KINDS),
  /** Vouches for device.* / tee.* claims inside client certificates it issued (PEM, one or more CAs). */
  ca: filePath.optional(),
  /** Keys for signed tokens: a local JWKS file, or an https:// URI (http:// only on loopback). */
  jwks: z.strictObject({ file: filePath.optional(), uri: z.string().min(1).optional() }).optional(),
  /** The token's required `iss`. */
  issuer: z.string().min(1).optional(),
  /** The token's required `aud` (one of them). */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Accept a token whatever its `aud` (attestation services that set none); prefer binding to the client certificate. */
  unsafeAllowAnyAudience: z.boolean().default(false),
  /** The header that carries the token; `authorization` means `Authorization: Bearer <token>`. */
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, "must be a header name (letters, digits, -)")
    .transform((name) => name.toLowerCase())
    .optional(),
  algorithms: z.array(z.enum(TOKEN_ALGORITHMS)).min(1).optional(),
  /** Tolerance for exp, nbf and iat (default limits.clockSkew). */
  clockSkew: duration.optional(),
  /** The oldest `iat` accepted. */
  maxAge: duration.optional(),
  /** The token must carry RFC 8705 cnf["x5t#S256"] equal to the client certificate's thumbprint. */
  bindToClientCert: z.boolean().default(false),
  /** identity: where the groups are (default `groups`). */
  groupsClaim: z.string().min(1).optional(),
  /** attestation: how the vendor's claims map onto tee.*. */
  profile: z.enum(ATTESTATION_PROFILE_NAMES).optional(),
  /** generic profile: tee attribute -> claim path (checked by the profile compiler). */
  claims: z.unknown().optional(),
  /** Raw evidence this issuer verifies itself, up to pinned vendor roots (kind attestation). */
  evidence: z.enum(["sev-snp", "tdx", "nitro"]).optional(),
  /**
   * evidence: accept a self-signed client certificate (Gramine RA-TLS style) as an
   * identity when evidence inside it, verified by this issuer, binds its key.
   */
  acceptSelfSignedCertificates: z.boolean().default(false),
  /** evidence: PEM files replacing the shipped vendor roots (AMD ARKs, the Intel SGX Root CA, the AWS Nitro root). */
  roots: z.array(filePath).min(1).optional(),
  /**
   * evidence tdx: Intel PCS collateral files, read and verified at load time (never
   * fetched on the request path). All seven parts: a TCB check without revocation
   * would silently trust a revoked platform.
   */
  collateral: z
    .strictObject({
      tcbInfo: filePath,
      tcbInfoIssuerChain: filePath,
      qeIdentity: filePath,
      qeIdentityIssuerChain: filePath,
      pckCrl: filePath,
      pckCrlIssuerChain: filePath,
      rootCaCrl: filePath,
    })
    .optional(),
  /** evidence sev-snp: lowest acceptable reported TCB per component (bootloader, tee, snp, microcode, fmc). */
  minimumTcb: z
    .partialRecord(
      z.enum(["bootloader", "tee", "snp", "microcode", "fmc"]),
      z.number().int().min(0).max(255),
    )
    .optional(),
  /** A token must echo a nonce from POST /.well-known/verigate/nonce. */
  requireNonce: z.boolean().default(false),
  /** Where the token echoes the nonce, when the profile does not know (dotted claim path). */
  nonceClaim: z.string().min(1).optional(),
});

export type IssuerDocument = z.output<typeof issuerSchema>;

const routeSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._-]{0,62}$/,
      "must be 1-63 of a-z 0-9 . _ - (it becomes the assertion audience)",
    ),
  match: z
    .strictObject({
      host: z.string().min(1).optional(),
      pathPrefix: z.string().default("/"),
    })
    .default({ pathPrefix: "/" }),
  upstream: z.string({ error: "is required: where allowed requests go (http:// or https:// URL)" }),
  /** A CA bundle to verify an https upstream with (default: Node's public roots). */
  upstreamCA: filePath.optional(),
  /**
   * `audit`: decide and log as if enforcing (`wouldDeny`), but forward what the
   * route's policy or identity gate would deny. Invalid credentials stay refused.
   */
  mode: z.enum(["enforce", "audit"]).default("enforce"),
  /**
   * `required` (default): a request without a verified identity gets 401 before the
   * policy runs. `optional`: the policy alone decides (for routes whose rules
   * look only at the request, e.g. a public health page).
   */
  identity: z.enum(["required", "optional"]).default("required"),
  /** Largest request body for this route (default `limits.maxBodyBytes`); 413 beyond. */
  maxBodyBytes: z.number().int().min(0).optional(),
  /**
   * Token issuers whose verified token this route passes on to the upstream in its
   * header. By default a token verigate consumed never leaves it.
   */
  passTokens: z.array(z.string().min(1)).default([]),
  /** Send the client's Host to the upstream instead of the upstream's own host. */
  preserveHost: z.boolean().default(false),
  /** Checked by the policy compiler, which reports its own problems. Absent: the route denies everything. */
  policy: z.unknown().optional(),
  /** A policy evaluated beside the live one and logged, never enforced: a change watched on real traffic. */
  candidate: z.unknown().optional(),
});

const stateSchema = z.union([
  z.literal("memory"),
  z.strictObject({
    redis: z.strictObject({
      /** redis:// or rediss:// (TLS); a password in the URL is never logged. */
      url: z.string().regex(/^rediss?:\/\/./, "must be a redis:// or rediss:// URL"),
      /** Prefix of every key verigate writes (several deployments may share one Redis). */
      keyPrefix: z.string().min(1).default("verigate:"),
      /** Past this without reading the revocation list, requests with a certificate get 503 (fail closed). */
      revocationMaxAge: duration.default(60_000),
    }),
  }),
]);

const measurementSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{32,128}$/, "must be a hex digest (32 to 128 hex digits)")
  .transform((hex) => hex.toLowerCase());

export const configSchema = z.strictObject({
  listen: listenSchema.default({ address: "0.0.0.0", port: 8443 }),
  tls: tlsSchema,
  admin: adminSchema.default({ address: "127.0.0.1", port: 9090 }),
  /** Named lists for `inList` (launch measurements, MRTDs, PCR0s...). */
  measurements: z
    .record(
      z.string().regex(/^[A-Za-z0-9._-]+$/, "list names are letters, digits, . _ -"),
      z.array(measurementSchema),
    )
    .default({}),
  limits: limitsSchema.default(limitsSchema.parse({})),
  /** The signed assertion every forwarded request carries (x-verigate-assertion). */
  assertion: z
    .strictObject({
      /** A P-256 private key (PKCS#8 PEM) that keeps its kid across restarts; default: one made at start. */
      key: filePath.optional(),
      /** Make a new key this often (the previous one stays published one more period); not with `key`. */
      rotateEvery: duration.optional(),
      /** The assertion's `iss` (default "verigate"). */
      issuer: z.string().min(1).optional(),
      /**
       * Hand the same assertion to one caller's requests to one route while it states the same
       * facts, for this long (its jti names the first request); 0s signs every request.
       */
      reuseFor: duration
        .refine((ms) => ms <= 30_000, "at most 30s: a reused assertion keeps 30 s of its 60 s life")
        .default(10_000),
    })
    .default({ reuseFor: 10_000 }),
  /** How allowed requests are forwarded (a restart applies a change). */
  proxy: z
    .strictObject({
      /** `undici` (its Pool.stream for plain HTTP; WebSocket upgrades go through http-proxy-3), or `http-proxy-3` for everything. */
      engine: z.enum(["undici", "http-proxy-3"]).default("undici"),
    })
    .default({ engine: "undici" }),
  /** Hot reload: SIGHUP always reloads; `watch` also reloads when the config or a file it names changes. */
  reload: z
    .strictObject({
      watch: z.boolean().default(true),
      /** Wait this long after the last change before reloading (editors write files in several steps). */
      debounce: duration.default(300),
    })
    .default({ watch: true, debounce: 300 }),
  /** Where nonces and revocations live: `memory` (one process) or Redis (shared by every worker and replica). */
  state: stateSchema.default("memory"),
  /** Worker processes sharing the listener: a number, or `auto` (one per core). More than 1 needs state.redis. */
  workers: z.union([z.literal("auto"), z.number().int().min(1).max(256)]).default(1),
  /** Who may vouch for claims: CAs for claims in client certificates, key sets for signed tokens. */
  issuers: z.array(issuerSchema).default([]),
  routes: z
    .array(routeSchema)
    .min(1, "at least one route is needed (verigate denies everything else)"),
});

/** The configuration after schema validation and defaults, before compilation. */
export type ConfigDocument = z.output<typeof configSchema>;
export type RouteDocument = z.output<typeof routeSchema>;
export type LimitsDocument = z.output<typeof limitsSchema>;
export type StateDocument = z.output<typeof stateSchema>;

/** A JSON Schema of the config file, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
}
