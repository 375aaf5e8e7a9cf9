import type { EvidenceCache } from "../claims/evidence/evidence-claims.js";
import type { TokenVerifier } from "../claims/tokens/token-verifier.js";
import type { CompiledPolicy } from "../policy/compile-policy.js";
import type { CompiledIssuers } from "./compile-issuers.js";
import type { RouteTable } from "../proxy/route-table.js";
import type { Upstream } from "../proxy/upstream.js";
import type { TlsMaterial } from "../tls/tls-material.js";
import type { LimitsDocument, StateDocument } from "./schema.js";

/** A route ready to serve: matchers, policy and upstream all built at load time. */
export interface CompiledRoute {
  readonly name: string;
  /** Its place in the config (`routes[3]`), for messages. */
  readonly where: string;
  readonly identity: "required" | "optional";
  /** `audit`: would-be denies by the route's policy or identity gate are logged and forwarded. */
  readonly mode: "enforce" | "audit";
  readonly preserveHost: boolean;
  /** Largest request body accepted (413 beyond). */
  readonly maxBodyBytes: number;
  /** Headers of the token issuers named in `passTokens`: forwarded although verigate consumed them. */
  readonly passHeaders: ReadonlySet<string>;
  readonly upstream: Upstream;
  readonly policy: CompiledPolicy;
  /** Evaluated beside `policy` and logged, never enforced. */
  readonly candidate: CompiledPolicy | undefined;
}

/**
 * One loaded configuration, compiled and frozen. A request reads the snapshot it
 * started with to its end; a reload builds a whole new one and swaps it.
 */
export interface Snapshot {
  /** Short hash of the config text and every file it names: in every audit line. */
  readonly revision: string;
  readonly file: string;
  /** The config file and every file it names (absolute paths): what a reload watches. */
  readonly files: readonly string[];
  readonly listen: { readonly address: string; readonly port: number };
  readonly admin: { readonly address: string; readonly port: number };
  readonly tls: TlsMaterial & {
    readonly minVersion: "TLSv1.2" | "TLSv1.3";
    readonly allowMissingEku: boolean;
  };
  readonly limits: LimitsDocument;
  /** Settings of the signed upstream assertion (the keys live per process, made from the first snapshot). */
  readonly assertion: {
    readonly keyPem: string | undefined;
    readonly rotateEveryMs: number | undefined;
    readonly issuer: string | undefined;
    /** How long one caller's assertion for one route is handed out again (0: sign every request). */
    readonly reuseForMs: number;
  };
  /** The forwarding engine (restart-only). */
  readonly proxy: { readonly engine: "http-proxy-3" | "undici" };
  readonly reload: { readonly watch: boolean; readonly debounce: number };
  /** Where nonces and revocations live (held by the running process: restart to change). */
  readonly state: StateDocument;
  /** Worker processes `verigate serve` runs (held by the running process). */
  readonly workers: number | "auto";
  readonly issuers: CompiledIssuers;
  /** Headers a request may carry at most once: Host, credentials, every token and evidence header. */
  readonly singletonHeaders: ReadonlySet<string>;
  /** Verified tokens of this snapshot's issuers, remembered until they expire. */
  readonly tokens: TokenVerifier;
  /** Verified raw evidence of this snapshot's evidence issuers, remembered by hash. */
  readonly evidenceCache: EvidenceCache;
  readonly routes: readonly CompiledRoute[];
  readonly routeTable: RouteTable<CompiledRoute>;
}
