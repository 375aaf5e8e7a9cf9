import { Counter, Histogram, Registry } from "prom-client";

/**
 * verigate's Prometheus metrics, in a registry of their own (no global state, so
 * several gateways in one process, as in tests, do not mix). Labels are bounded:
 * route names and reason codes come from the config and the reason catalogue,
 * never from a request.
 */
export class GatewayMetrics {
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

  /** The text a Prometheus scrape gets. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
