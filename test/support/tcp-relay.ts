import { once } from "node:events";
import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from "node:net";

/** A loopback TCP relay to a target that a test can cut and restore: an outage without stopping the target. */
export interface TcpRelay {
  readonly port: number;
  /** Closes every relayed connection and stops listening: connecting is refused. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(targetHost: string, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let server: Server;
  function listen(port: number): Promise<number> {
    server = createServer((client) => {
      const target = createConnection({ host: targetHost, port: targetPort });
      for (const socket of [client, target]) {
        sockets.add(socket);
        socket.on("error", () => undefined);
        socket.once("close", () => sockets.delete(socket));
      }
      client.pipe(target).pipe(client);
      client.once("close", () => target.destroy());
      target.once("close", () => client.destroy());
    });
    server.listen(port, "127.0.0.1");
    return once(server, "listening").then(() => (server.address() as AddressInfo).port);
  }
  const port = await listen(0);
  async function cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }
  return {
    port,
    cut,
    async restore() {
      await listen(port);
    },
    close: cut,
  };
}
