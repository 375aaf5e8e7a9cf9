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
import { claimsFromCertificate } from "../../../src/claims/certificate-claims.js";
import { DEV_MEASUREMENT, writeDevPki } from "../../../src/dev-pki/write-dev-pki.js";
import type { DevPkiFiles } from "../../../src/dev-pki/write-dev-pki.js";
import { splitCrls } from "../../../src/tls/tls-material.js";

/** Every certificate of a PEM bundle, in order. */
const certificatesOf = (pem: string): X509Certificate[] =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );

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
      "attestation-ca.pem",
      "attestation-service-key.pem",
      "attestation-service.jwks.json",
      "bob-key.pem",
      "bob.pem",
      "ca.pem",
      "carol-key.pem",
      "carol.pem",
      "clients.crl",
      "server-key.pem",
      "server.pem",
    ]);
    expect(await mode(files.dir)).toBe(0o700);
    const keys = [files.server.key, files.clients.alice.key, files.clients.bob.key];
    for (const key of [...keys, files.clients.carol.key, files.attestationService.key]) {
      expect(await mode(key)).toBe(0o600);
      expect(await readFile(key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it("writes the dev attestation service's public JWKS only: one ES256 key, no private part", async () => {
    const jwks = JSON.parse(await readFile(files.attestationService.jwks, "utf8")) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    expect(await mode(files.attestationService.jwks)).toBe(0o644);
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

  it("carol chains to attestation-ca.pem, which chains to ca.pem", async () => {
    const ca = new X509Certificate(await readFile(files.ca));
    const [attestationCa, ...more] = certificatesOf(await readFile(files.attestationCa, "utf8"));
    expect(more).toEqual([]);
    expect(attestationCa?.subject).toBe("CN=verigate dev attestation CA");
    expect(attestationCa?.ca).toBe(true);
    expect(attestationCa?.checkIssued(ca) && attestationCa.verify(ca.publicKey)).toBe(true);
    const chain = certificatesOf(await readFile(files.clients.carol.cert, "utf8"));
    expect(chain.map((cert) => cert.subject)).toEqual([
      "O=verigate dev\nCN=carol",
      "CN=verigate dev attestation CA",
    ]);
    const [carol, sent] = chain;
    expect(sent?.raw.equals(attestationCa?.raw ?? Buffer.alloc(0))).toBe(true);
    expect(carol?.checkIssued(attestationCa!) && carol.verify(attestationCa!.publicKey)).toBe(true);
    expect(carol?.subjectAltName).toBe(
      "email:carol@verigate.test, URI:spiffe://verigate.test/user/carol",
    );
  });

  it("carol carries device and TEE claims that the attestation CA vouches for", async () => {
    const [attestationCa] = certificatesOf(await readFile(files.attestationCa, "utf8"));
    const chain = certificatesOf(await readFile(files.clients.carol.cert, "utf8"));
    const now = Date.now();
    const age = now - Date.parse(chain[0]?.validFrom ?? "");
    const claims = claimsFromCertificate(
      chain.map((cert) => cert.raw),
      [
        { name: "dev-posture", kind: "posture", cas: [attestationCa!] },
        { name: "dev-attestation", kind: "attestation", cas: [attestationCa!] },
      ],
      now,
    );
    expect(claims).toEqual({
      device: {
        managed: true,
        compliant: true,
        diskEncrypted: true,
        os: "linux",
        osVersion: "6.8.0",
        issuer: "dev-posture",
        age,
      },
      tee: {
        platform: "sev-snp",
        measurement: DEV_MEASUREMENT,
        debug: false,
        tcbStatus: "UpToDate",
        svn: 3,
        issuer: "dev-attestation",
        age,
        boundToClientCert: true,
      },
      notes: [],
    });
    expect(DEV_MEASUREMENT).toMatch(/^[0-9a-f]{96}$/);
  });

  it("clients.crl holds the CA's and the attestation CA's CRL; carol completes mTLS", async () => {
    const crls = splitCrls(await readFile(files.crl, "utf8"));
    expect(crls).toHaveLength(2);
    const read = (path: string): Promise<string> => readFile(path, "utf8");
    const server = tls.createServer({
      key: await read(files.server.key),
      cert: await read(files.server.cert),
      ca: await read(files.ca),
      crl: crls,
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
        cert: await read(files.clients.carol.cert),
        key: await read(files.clients.carol.key),
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

  it("issues extra clients from the attestation CA", async () => {
    const dir = join(parent, "extra");
    const extra = await writeDevPki(dir, {
      extraClients: [
        { name: "dave", diceTcbInfo: { fwids: [{ hashAlg: "sha384", digest: DEV_MEASUREMENT }] } },
        { name: "erin-debug", claims: { tee: { platform: "tdx", debug: true } } },
      ],
    });
    expect((await readdir(dir)).filter((f) => /^(dave|erin)/.test(f)).sort()).toEqual([
      "dave-key.pem",
      "dave.pem",
      "erin-debug-key.pem",
      "erin-debug.pem",
    ]);
    expect(extra.clients["dave"]).toEqual({
      cert: join(dir, "dave.pem"),
      key: join(dir, "dave-key.pem"),
    });
    expect(await mode(join(dir, "dave-key.pem"))).toBe(0o600);
    const [attestationCa] = certificatesOf(await readFile(extra.attestationCa, "utf8"));
    const issuers = [{ name: "att", kind: "attestation" as const, cas: [attestationCa!] }];
    const teeOf = async (name: string): Promise<unknown> =>
      claimsFromCertificate(
        certificatesOf(await readFile(join(dir, `${name}.pem`), "utf8")).map((c) => c.raw),
        issuers,
        Date.now(),
      ).tee;
    expect(await teeOf("dave")).toMatchObject({ platform: "dice", measurement: DEV_MEASUREMENT });
    expect(await teeOf("erin-debug")).toMatchObject({ platform: "tdx", debug: true });
  });

  it.each([
    ["carol"],
    ["server"],
    ["attestation-ca"],
    ["attestation-service"],
    ["alice-key"],
    ["../x"],
    ["Dave"],
    [""],
  ])("refuses the extra client name %j before writing anything", async (name) => {
    const dir = join(parent, "refused");
    await expect(writeDevPki(dir, { extraClients: [{ name }] })).rejects.toThrow(
      /extra client name/,
    );
    await expect(readdir(dir)).rejects.toMatchObject({ code: "ENOENT" });
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
