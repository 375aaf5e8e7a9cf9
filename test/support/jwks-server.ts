import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type JwksMode = "up" | "down" | "slow" | "junk";

export interface JwksServer {
  readonly url: string;
  /** How many times the JWKS was fetched. */
  readonly fetches: () => number;
  setMode(mode: JwksMode): void;
  setJwks(jwks: unknown): void;
  close(): Promise<void>;
}

/**
 * A JWKS endpoint on 127.0.0.1 that can misbehave: `down` answers 503, `slow`
 * never answers, `junk` answers 200 with something that is not a JWKS.
 */
export async function startJwksServer(jwks: unknown): Promise<JwksServer> {
  let mode: JwksMode = "up";
  let current = jwks;
  let fetches = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    fetches += 1;
    if (mode === "slow") return;
    if (mode === "down") {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(mode === "junk" ? '{"keys": "not a list"}' : JSON.stringify(current));
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    fetches: () => fetches,
    setMode: (next) => {
      mode = next;
    },
    setJwks: (next) => {
      current = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
