import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { TokenTelemetry } from "../claims/tokens/token-verifier.js";

/**
 * verigate's Prometheus metrics, in a registry of their own (no global state, so
 * several gateways in one process, as in tests, do not mix). Labels are bounded:
 * route names and reason codes come from the config and the reason catalogue,
 * never from a request.
 */
export class GatewayMetrics implements TokenTelemetry {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: "verigate_decisions_total",
    help: "Requests decided, by route, decision and deciding reason",
    labelNames: ["route", "decision", "reason"] as const,
    registers: [this.registry],
  });
  readonly wouldDeny = new Counter({
    name: "verigate_would_deny_total",
    help: "Requests an audit-mode route forwarded although it would have denied them",
    labelNames: ["route"] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: "verigate_request_duration_seconds",
    help: "Whole request, from arrival to the end of the response",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly decisionSeconds = new Histogram({
    name: "verigate_decision_duration_seconds",
    help: "Claims and policy evaluation, before forwarding",
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [this.registry],
  });
  readonly upstreamFailures = new Counter({
    name: "verigate_upstream_failures_total",
    help: "Forwarding that ended without the upstream's response, by route and reason",
    labelNames: ["route", "reason"] as const,
    registers: [this.registry],
  });

  readonly tokenVerifications = new Counter({
    name: "verigate_token_verifications_total",
    help: "Tokens verified, by issuer and whether the verification cache answered (hit) or the signature was checked (miss)",
    labelNames: ["issuer", "cache"] as const,
    registers: [this.registry],
  });
  readonly keyFetchFailures = new Counter({
    name: "verigate_jwks_fetch_errors_total",
    help: "Tokens refused because the issuer's JWKS could not be fetched (down, slow or not a JWKS)",
    labelNames: ["issuer"] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: "verigate_config_reloads_total",
    help: "Config reloads, by result: applied, unchanged or rejected (the old config kept serving)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly configLoadedAt = new Gauge({
    name: "verigate_config_loaded_timestamp_seconds",
    help: "When the config in force was loaded, by its revision",
    labelNames: ["revision"] as const,
    // Across cluster workers: the latest load, not a sum of timestamps.
    aggregator: "max",
    registers: [this.registry],
  });

  tokenVerified(issuer: string, cache: "hit" | "miss"): void {
    this.tokenVerifications.inc({ issuer, cache });
  }

  keyFetchFailed(issuer: string): void {
    this.keyFetchFailures.inc({ issuer });
  }

  /** Records the revision in force (one series: the previous revision's is removed). */
  configInForce(revision: string, at: number): void {
    this.configLoadedAt.reset();
    this.configLoadedAt.set({ revision }, at / 1000);
  }

  /** The text a Prometheus scrape gets. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
