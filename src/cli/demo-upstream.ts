import { once } from "node:events";
import { createServer, type Server } from "node:http";

/**
 * The quick start's stand-in for an internal app: it answers with what verigate
 * told it about the caller, so a first-time user sees the forwarded headers.
 */
export async function startDemoUpstream(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const body = {
      message: "hello from the demo upstream, reached through verigate",
      method: req.method,
      path: req.url,
      headersFromVerigate: req.headers,
    };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`${JSON.stringify(body, null, 2)}\n`);
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return server;
}
