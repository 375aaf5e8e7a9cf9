import { once } from "node:events";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

/** What the upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  /** The port of verigate's side of the upstream connection: equal for reused connections. */
  readonly remotePort: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

export interface EchoUpstream {
  readonly url: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Requests whose client went away before the upstream answered. */
  readonly aborted: string[];
  close(): Promise<void>;
}

/**
 * A real upstream on 127.0.0.1 that answers with what it received, and misbehaves
 * on request: `/slow/*` never answers, `/reset/*` resets the connection,
 * `/half/*` sends headers and part of a body then dies, `/badheaders/*` answers with a
 * malformed response head, `/stream/*` sends its head and a first part, the rest 300 ms later, `/delay/*` answers after 600 ms. WebSocket connections echo
 * messages back, prefixed with `echo:`; a WebSocket upgrade under `/slow/` is never answered.
 */
export async function startEchoUpstream(
  options: { tls?: { cert: string; key: string } } = {},
): Promise<EchoUpstream> {
  const seen: SeenRequest[] = [];
  const aborted: string[] = [];
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = req.url ?? "";
      seen.push({
        method: req.method ?? "",
        url,
        remotePort: req.socket.remotePort ?? 0,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      if (url.startsWith("/slow/")) {
        res.on("close", () => {
          if (!res.writableFinished) aborted.push(url);
        });
        return;
      }
      if (url.startsWith("/delay/")) {
        setTimeout(() => {
          res.writeHead(200, { "content-type": "text/plain" });
          res.end("late but complete");
        }, 600);
        return;
      }
      if (url.startsWith("/reset/")) {
        req.socket.destroy();
        return;
      }
      if (url.startsWith("/stream/")) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first part;");
        setTimeout(() => res.end("second part"), 300);
        return;
      }
      if (url.startsWith("/badheaders/")) {
        req.socket.end("HTTP/1.1 200 OK\r\nthis line is no header\r\ncontent-length: 2\r\n\r\nok");
        return;
      }
      if (url.startsWith("/half/")) {
        res.writeHead(200, { "content-type": "text/plain", "content-length": "1000" });
        res.write("partial");
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      const body = JSON.stringify({ method: req.method, url, headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    });
  };
  const server: Server =
    options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // WebSocket upgrades echo messages, except under /slow/, where the upstream never answers.
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? "").startsWith("/slow/")) return;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      remotePort: req.socket.remotePort ?? 0,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: "",
    });
    ws.on("message", (data: Buffer) => ws.send(`echo:${data.toString("utf8")}`));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    // Over TLS the upstream is named by its certificate's name, as an operator would.
    url: options.tls === undefined ? `http://127.0.0.1:${port}` : `https://localhost:${port}`,
    port,
    seen,
    aborted,
    async close() {
      wss.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
