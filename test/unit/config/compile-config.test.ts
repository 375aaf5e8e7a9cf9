import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSnapshot } from "../../../src/config/compile-config.js";
import { ConfigError, formatProblem } from "../../../src/config/config-problem.js";
import { createTestPki, writeTestPki, type TestPkiFiles } from "../../support/pki.js";

let dir: string;
let files: TestPkiFiles;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "verigate-config-"));
  files = await writeTestPki(await createTestPki(), join(dir, "pki"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function problemsOf(yaml: string): Promise<string[]> {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, yaml);
  try {
    const snapshot = await loadSnapshot(file);
    for (const route of snapshot.routes) route.upstream.agent.destroy();
    return [];
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map(formatProblem);
  }
}

function config(
  tls: Partial<Record<"cert" | "key" | "clientCAs" | "crl", string>>,
  routes: string,
): string {
  const t = { cert: files.server.cert, key: files.server.key, clientCAs: files.clientCAs, ...tls };
  return `tls:\n${Object.entries(t)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join("\n")}\n${routes}`;
}

const ROUTE = `routes:
  - name: app
    upstream: http://127.0.0.1:9000
    policy:
      allow:
        - identity.commonName: alice
`;

describe("config compilation", () => {
  it("compiles a good config into a frozen snapshot with a revision", async () => {
    const file = join(dir, "good.yaml");
    await writeFile(file, config({ crl: files.crl }, ROUTE));
    const snapshot = await loadSnapshot(file);
    expect(snapshot.revision).toMatch(/^[0-9a-f]{12}$/);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.isFrozen(snapshot.routes)).toBe(true);
    expect(snapshot.routeTable.lookup("any.host", "/x")?.name).toBe("app");
    // The revision changes with any file the config names, not only with its own text.
    await writeFile(file, config({ crl: files.emptyCrl }, ROUTE));
    const other = await loadSnapshot(file);
    expect(other.revision).not.toBe(snapshot.revision);
    for (const s of [snapshot, other]) for (const r of s.routes) r.upstream.agent.destroy();
  });

  it("reports unreadable files by their config path", async () => {
    expect(
      await problemsOf(config({ clientCAs: "missing-ca.pem", crl: "missing.crl" }, ROUTE)),
    ).toEqual([
      'tls.clientCAs: cannot read "missing-ca.pem" (ENOENT)',
      'tls.crl: cannot read "missing.crl" (ENOENT)',
    ]);
  });

  it("fails closed when clientCAs holds no CA certificate (never serves without client verification)", async () => {
    const notPem = join(dir, "not-pem.pem");
    await writeFile(notPem, "this is not a certificate\n");
    expect(await problemsOf(config({ clientCAs: notPem }, ROUTE))).toEqual([
      "tls.clientCAs: holds no PEM certificate",
    ]);
    expect(await problemsOf(config({ clientCAs: files.clients.alice.cert }, ROUTE))).toEqual([
      expect.stringMatching(
        /^tls\.clientCAs: certificate #1 \(.*CN=alice.*\) is not a CA certificate$/,
      ) as unknown,
    ]);
  });

  it("reports a CRL that leaves a client CA uncovered", async () => {
    const onlyOther = join(dir, "other.crl");
    const pki = await createTestPki();
    await writeFile(onlyOther, pki.intermediateCrlPem);
    expect(await problemsOf(config({ crl: onlyOther }, ROUTE))).toEqual([
      'tls.crl: no CRL for client CA "CN=verigate test CA"',
    ]);
  });

  it("reports a key that does not match the certificate", async () => {
    const problems = await problemsOf(config({ key: files.clients.alice.key }, ROUTE));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^tls: OpenSSL refuses the certificate, key, CAs or CRL: .*key values mismatch/,
    );
  });

  it("reports route problems: bad upstream, duplicate names, duplicate matches, bad policy", async () => {
    const problems = await problemsOf(
      config(
        {},
        `routes:
  - name: app
    upstream: ftp://127.0.0.1
    policy: { allow: [ { identity.commonName: alice } ] }
  - name: app
    upstream: http://user:pw@127.0.0.1:9000
    policy: { allow: [ { identity.commonName: alice } ] }
  - name: three
    match: { host: "a.*.test", pathPrefix: "no-slash" }
    upstream: http://127.0.0.1:9000
    policy: { allow: [ { tee.measurment: abc } ] }
`,
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "routes[0].upstream: must be an http:// or https:// URL, not ftp:",
        'routes[1].name: duplicate route name "app"',
        "routes[1].upstream: must not carry credentials",
        expect.stringMatching(/^routes\[2\]\.match\.host: /) as unknown,
        expect.stringMatching(/^routes\[2\]\.match\.pathPrefix: /) as unknown,
        'routes[2].policy.allow[0]: unknown attribute "tee.measurment"',
      ]),
    );
  });

  it("reports evidence issuer mistakes by path, and compiles the shipped vendor roots", async () => {
    const issuers = (yaml: string): string => config({}, `issuers:\n${yaml}\n${ROUTE}`);
    expect(
      await problemsOf(
        issuers(`  - { name: a, kind: attestation, evidence: sev-snp, jwks: { file: x.json } }
  - { name: b, kind: posture, evidence: nitro, issuer: https://x, collateral: { tcbInfo: t, tcbInfoIssuerChain: t, qeIdentity: q, qeIdentityIssuerChain: q, pckCrl: p, pckCrlIssuerChain: p, rootCaCrl: r } }
  - { name: c, kind: attestation, evidence: tdx, minimumTcb: { snp: 1 }, roots: [missing-root.pem] }
  - { name: d, kind: attestation, evidence: sev-snp }
  - { name: e, kind: attestation, evidence: sev-snp }`),
      ),
    ).toEqual([
      'issuers[2].roots[0]: cannot read "missing-root.pem" (ENOENT)',
      "issuers[0]: needs exactly one of ca (claims in client certificates), jwks (signed tokens) or evidence (raw TEE evidence)",
      "issuers[1].issuer: not for evidence issuers",
      "issuers[1].kind: evidence issuers are of kind attestation",
      "issuers[1].collateral: only for evidence: tdx",
      "issuers[2].minimumTcb: only for evidence: sev-snp",
      "issuers[4].evidence: another issuer already verifies sev-snp evidence",
    ]);
    const file = join(dir, "evidence-ok.yaml");
    await writeFile(
      file,
      issuers(`  - { name: snp, kind: attestation, evidence: sev-snp, bindToClientCert: true }
  - { name: tdx, kind: attestation, evidence: tdx }
  - { name: nitro, kind: attestation, evidence: nitro }`),
    );
    const snapshot = await loadSnapshot(file);
    expect(snapshot.issuers.evidence.map((issuer) => issuer.platform)).toEqual([
      "sev-snp",
      "tdx",
      "nitro",
    ]);
    for (const route of snapshot.routes) route.upstream.agent.destroy();
  });
});

describe("state and workers", () => {
  it("refuses several workers with state memory or without a shared assertion key", async () => {
    const keyless =
      "assertion.key: is needed with 2 workers: made keys differ per worker, and upstreams must verify every worker's assertions";
    expect(await problemsOf(config({}, `workers: 2\n${ROUTE}`))).toEqual([
      "workers: 2 workers need state.redis: with state memory, nonces and revocations are per worker",
      keyless,
    ]);
    const redis = `state: { redis: { url: "redis://127.0.0.1:6390" } }\n`;
    expect(await problemsOf(config({}, `workers: 2\n${redis}${ROUTE}`))).toEqual([keyless]);
    expect((await problemsOf(config({}, `workers: auto\n${ROUTE}`)))[0]).toBe(
      "workers: auto workers need state.redis: with state memory, nonces and revocations are per worker",
    );
    expect(await problemsOf(config({}, `state: { redis: { url: "http://x" } }\n${ROUTE}`))).toEqual(
      ["state.redis.url: must be a redis:// or rediss:// URL"],
    );
  });
});
