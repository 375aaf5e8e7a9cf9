import { once } from "node:events";
import { X509Certificate } from "node:crypto";
import {
  chmod,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDevPki } from "../../../src/dev-pki/write-dev-pki.js";
import type { DevPkiFiles } from "../../../src/dev-pki/write-dev-pki.js";

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe("writeDevPki", () => {
  let parent: string;
  let files: DevPkiFiles;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), "verigate-dev-pki-"));
    files = await writeDevPki(join(parent, "nested", "pki"));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it("writes exactly the expected files, with absolute paths and private modes", async () => {
    expect(isAbsolute(files.dir)).toBe(true);
    expect((await readdir(files.dir)).sort()).toEqual([
      "alice-key.pem",
      "alice.pem",
      "bob-key.pem",
      "bob.pem",
      "ca.pem",
      "clients.crl",
      "server-key.pem",
      "server.pem",
    ]);
    expect(await mode(files.dir)).toBe(0o700);
    for (const key of [files.server.key, files.clients.alice.key, files.clients.bob.key]) {
      expect(await mode(key)).toBe(0o600);
      expect(await readFile(key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it("alice's certificate verifies against ca.pem and carries her identity", async () => {
    const ca = new X509Certificate(await readFile(files.ca));
    const alice = new X509Certificate(await readFile(files.clients.alice.cert));
    expect(alice.checkIssued(ca)).toBe(true);
    expect(alice.verify(ca.publicKey)).toBe(true);
    expect(alice.subject).toContain("CN=alice");
    expect(alice.subjectAltName).toBe(
      "email:alice@verigate.test, URI:spiffe://verigate.test/user/alice",
    );
    const server = new X509Certificate(await readFile(files.server.cert));
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(server.checkIP("::1")).toBe("::1");
  });

  it("the written files work together in a real TLS handshake, CRL included", async () => {
    const read = (path: string): Promise<string> => readFile(path, "utf8");
    const server = tls.createServer({
      key: await read(files.server.key),
      cert: await read(files.server.cert),
      ca: await read(files.ca),
      crl: await read(files.crl),
      requestCert: true,
      rejectUnauthorized: false,
    });
    try {
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      const verdict = new Promise<[boolean, unknown]>((resolve) => {
        server.once("secureConnection", (socket: tls.TLSSocket) => {
          resolve([socket.authorized, socket.authorizationError]);
          socket.destroy();
        });
      });
      const socket = tls.connect({
        host: "127.0.0.1",
        port: (server.address() as AddressInfo).port,
        servername: "localhost",
        ca: await read(files.ca),
        cert: await read(files.clients.bob.cert),
        key: await read(files.clients.bob.key),
      });
      socket.on("error", () => {});
      try {
        await once(socket, "secureConnect");
        expect(await verdict).toEqual([true, null]);
      } finally {
        socket.destroy();
      }
    } finally {
      server.close();
    }
  });

  it("tightens the mode of a key file that already existed with a looser one", async () => {
    const dir = join(parent, "rewrite");
    const first = await writeDevPki(dir);
    await chmod(first.clients.alice.key, 0o644);
    const second = await writeDevPki(dir);
    expect(await mode(second.clients.alice.key)).toBe(0o600);
    expect(await readFile(second.clients.alice.cert, "utf8")).not.toBe(
      await readFile(files.clients.alice.cert, "utf8"),
    );
  });

  it("refuses to write through a planted symlink", async () => {
    const dir = join(parent, "symlink");
    const target = join(parent, "target.txt");
    await writeFile(target, "untouched");
    await writeDevPki(dir);
    await unlink(join(dir, "bob-key.pem"));
    await symlink(target, join(dir, "bob-key.pem"));
    await expect(writeDevPki(dir)).rejects.toMatchObject({ code: "ELOOP" });
    expect(await readFile(target, "utf8")).toBe("untouched");
  });
});
