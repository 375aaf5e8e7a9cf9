import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimsFromCertificate } from "../../src/claims/certificate-claims.js";
import { createTestPki, writeTestPki, type TestPkiFiles } from "../support/pki.js";
import { runVerigate } from "../support/verigate-cli.js";

/** The DER certificates of a PEM chain file, leaf first. */
function certificatesIn(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block).raw);
}

describe("verigate check", () => {
  let dir: string;
  let files: TestPkiFiles;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-cli-"));
    files = await writeTestPki(await createTestPki(), join(dir, "pki"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("exits 0 for a valid config", async () => {
    const file = join(dir, "ok.yaml");
    await writeFile(
      file,
      `tls: { cert: ${files.server.cert}, key: ${files.server.key}, clientCAs: ${files.clientCAs}, crl: ${files.crl} }
routes:
  - name: app
    upstream: http://127.0.0.1:9000
    policy: { allow: [ { identity.commonName: alice } ] }
`,
    );
    const result = await runVerigate("check", "--config", file);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/valid \(revision [0-9a-f]{12}, 1 route\(s\)\)/);
  });

  it("exits 1 with one path: problem line per problem", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(
      file,
      `tls: { cert: ${files.server.cert}, key: ${files.server.key}, clientCAs: nowhere.pem }
routes:
  - name: app
    policy: { allow: [ { identity.groups: { hass: admins } } ] }
`,
    );
    const result = await runVerigate("check", "--config", file);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toContain(
      "routes[0].upstream: is required: where allowed requests go (http:// or https:// URL)",
    );
    expect(lines.at(-1)).toMatch(/: \d+ problem\(s\)$/);
  });

  it("exits 1 for a file that does not exist", async () => {
    const result = await runVerigate("check", "--config", join(dir, "absent.yaml"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot read config file");
  });

  it("exits 2 with usage for an unknown command or a missing flag", async () => {
    expect((await runVerigate("frobnicate")).code).toBe(2);
    expect((await runVerigate("check")).stderr).toContain("--config is required");
  });
});

describe("verigate dev-pki", () => {
  it("issues an extra client whose certificate carries the given claims, vouched for by the dev attestation CA", async () => {
    const dir = await mkdtemp(join(tmpdir(), "verigate-devpki-"));
    try {
      const claims = {
        tee: { platform: "tdx", measurement: "cd".repeat(48), debug: true },
        device: { managed: false },
      };
      const result = await runVerigate(
        "dev-pki",
        "--out",
        dir,
        "--client",
        "dave",
        "--claims",
        JSON.stringify(claims),
      );
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(join(dir, "dave.pem"));
      const chain = certificatesIn(await readFile(join(dir, "dave.pem"), "utf8"));
      const attestationCa = new X509Certificate(await readFile(join(dir, "attestation-ca.pem")));
      const vouching = [
        { name: "att", kind: "attestation" as const, cas: [attestationCa] },
        { name: "dev", kind: "posture" as const, cas: [attestationCa] },
      ];
      const found = claimsFromCertificate(chain, vouching, Date.now());
      expect(found.tee).toMatchObject({
        platform: "tdx",
        measurement: "cd".repeat(48),
        debug: true,
        issuer: "att",
      });
      expect(found.device).toMatchObject({ managed: false, issuer: "dev" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses --claims that are not a JSON object, or without --client", async () => {
    expect(
      (await runVerigate("dev-pki", "--out", "/nonexistent/x", "--client", "x", "--claims", "nope"))
        .stderr,
    ).toContain("--claims: not JSON");
    expect(
      (await runVerigate("dev-pki", "--out", "/nonexistent/x", "--claims", "{}")).stderr,
    ).toContain("--claims needs --client");
  });

  it("writes a PKI that verigate check accepts in a config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "verigate-devpki-"));
    try {
      const result = await runVerigate("dev-pki", "--out", join(dir, "pki"));
      expect(result.code).toBe(0);
      const file = join(dir, "c.yaml");
      await writeFile(
        file,
        `tls: { cert: pki/server.pem, key: pki/server-key.pem, clientCAs: pki/ca.pem, crl: pki/clients.crl }
routes:
  - name: app
    upstream: http://127.0.0.1:9000
    policy: { allow: [ { identity.commonName: alice } ] }
`,
      );
      expect((await runVerigate("check", "--config", file)).code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
