import { createServer, type Server, type ServerResponse } from "node:http";

/** What the admin endpoints report on. */
export interface AdminState {
  /** The proxy listener is accepting connections with a loaded config. */
  isReady(): boolean;
  revision(): string;
  /** The Prometheus exposition of the gateway's metrics. */
  metrics(): Promise<{ contentType: string; body: string }>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

/**
 * The operations listener (loopback by default): `/healthz` says the process
 * answers, `/readyz` that it has a config and is listening, `/metrics` is Prometheus. Plain HTTP on its own
 * port, so a load balancer's probe never needs a client certificate.
 */
export function createAdminServer(state: AdminState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(res, 405, { error: "method-not-allowed" });
    if (path === "/healthz") return send(res, 200, { status: "ok" });
    if (path === "/metrics") {
      state.metrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
          res.end(body);
        },
        () => send(res, 500, { error: "metrics-unavailable" }),
      );
      return;
    }
    if (path === "/readyz") {
      return state.isReady()
        ? send(res, 200, { status: "ready", revision: state.revision() })
        : send(res, 503, { status: "not-ready" });
    }
    send(res, 404, { error: "not-found" });
  });
}
