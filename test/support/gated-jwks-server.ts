import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface GatedJwksServer {
  readonly url: string;
  /** How many times the JWKS was requested (held requests included). */
  readonly fetches: () => number;
  /** Resolves once `count` requests have arrived. */
  waitForFetches(count: number): Promise<void>;
  /** Answers every held request, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A JWKS endpoint on 127.0.0.1 that holds every request until `release()`: a test
 * can make several verifications wait on the same key fetch, then count the fetches.
 */
export async function startGatedJwksServer(jwks: unknown): Promise<GatedJwksServer> {
  let isOpen = false;
  let fetches = 0;
  const held: ServerResponse[] = [];
  const waiters: Array<{ count: number; wake: () => void }> = [];
  const sockets = new Set<Socket>();
  const answer = (res: ServerResponse): void => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(jwks));
  };
  const server: Server = createServer((_req, res) => {
    fetches += 1;
    for (const waiter of waiters.filter((w) => fetches >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.wake();
    }
    if (isOpen) answer(res);
    else held.push(res);
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
    waitForFetches: (count) =>
      fetches >= count
        ? Promise.resolve()
        : new Promise<void>((wake) => {
            waiters.push({ count, wake });
          }),
    release: () => {
      isOpen = true;
      for (const res of held.splice(0)) answer(res);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
