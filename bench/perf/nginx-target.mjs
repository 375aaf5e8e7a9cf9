// nginx as a comparison target: terminates the same mTLS (ssl_verify_client on, the same CA,
// no session tickets or cache, so every new connection is a full handshake) and proxies to the
// upstream over kept-alive connections. It runs in the foreground from a config written to a
// temporary folder (pid, logs and temp files there), one worker, pinned like the proxy.
// Found on PATH or in /usr/sbin; installed with apt-get (nginx-light, else nginx) only when
// asked, or when it is missing and apt answers quickly.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readChildPids } from "./proc-stat.mjs";
import { spawnPinned, stopChild } from "./spawn-pinned.mjs";

const APT_TIMEOUT_MS = 180_000;

function findNginx() {
  for (const path of ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]) {
    if (existsSync(path)) return path;
  }
  return undefined;
}

function tryApt(args) {
  execFileSync("apt-get", args, {
    stdio: "ignore",
    timeout: APT_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** The nginx binary, installing it if allowed; or { skipped: why }. */
export function locateNginx({ install }) {
  const found = findNginx();
  if (found !== undefined) return { path: found };
  if (process.getuid?.() !== 0)
    return { skipped: "nginx is not installed (and not root to install it)" };
  try {
    if (install) tryApt(["update"]);
    for (const name of ["nginx-light", "nginx"]) {
      try {
        tryApt(["install", "-y", "--no-install-recommends", name]);
        const path = findNginx();
        if (path !== undefined) return { path, installed: name };
      } catch {
        // try the next package name
      }
    }
  } catch (error) {
    return { skipped: `apt-get failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { skipped: "nginx is not installed and apt-get could not install it" };
}

function renderConfig({ dir, port, upstreamPort, pki }) {
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  return `# written by bench/run.mjs
${user}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${pki.server.cert};
    ssl_certificate_key ${pki.server.key};
    ssl_client_certificate ${pki.ca};
    ssl_verify_client on;
    ssl_session_tickets off;
    ssl_session_cache off;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffers 16 16k;
      proxy_buffer_size 16k;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

/** Starts nginx on `port`; resolves with { pids (master, worker), stop() }. */
export async function startNginx({ binary, dir, port, upstreamPort, pki, core }) {
  await mkdir(join(dir, "tmp"), { recursive: true });
  const configFile = join(dir, "nginx.conf");
  await writeFile(configFile, renderConfig({ dir, port, upstreamPort, pki }));
  const child = spawnPinned(core, binary, ["-p", dir, "-c", configFile], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  // Ready when the worker is forked and the port accepts connections.
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}); see ${dir}`);
    const workers = readChildPids(child.pid);
    if (workers.length > 0 && (await isListening(port))) {
      return { pids: [child.pid, ...workers], stop: () => stopChild(child) };
    }
  }
  await stopChild(child);
  throw new Error(`nginx did not start; see ${dir}/error.log`);
}

async function isListening(port) {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
