// Micro-benchmarks of verigate's per-request work, on the built code (npm run build first):
//   node bench/hot-path.mjs
// Each figure is the median of 5 rounds of timed loops after a warm-up; the machine is
// shared and noisy, so read them as orders of magnitude and compare runs, not absolutes.
import { X509Certificate } from "node:crypto";
import { performance } from "node:perf_hooks";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import {
  identityFromCertificate,
  parseCertificateIdentity,
} from "../dist/claims/certificate-identity.js";
import { claimsFromCertificate } from "../dist/claims/certificate-claims.js";
import { verifyToken } from "../dist/claims/tokens/verify-token.js";
import { TokenVerifier } from "../dist/claims/tokens/token-verifier.js";
import { localKeySource } from "../dist/claims/tokens/key-source.js";
import { compilePolicy } from "../dist/policy/compile-policy.js";
import { canonicalizeTarget } from "../dist/proxy/canonical-path.js";
import { buildRouteTable } from "../dist/proxy/route-table.js";
import { createCertificateAuthority } from "../dist/dev-pki/certificate-authority.js";

function measure(name, iterations, fn) {
  for (let i = 0; i < iterations; i++) fn(i); // warm-up: let the JIT settle
  const rounds = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) fn(i);
    rounds.push(((performance.now() - start) * 1000) / iterations);
  }
  rounds.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(52)} ${rounds[2].toFixed(2).padStart(9)} us/op  (min ${rounds[0].toFixed(2)}, max ${rounds[4].toFixed(2)})`,
  );
}

async function measureAsync(name, iterations, fn) {
  for (let i = 0; i < Math.min(iterations, 200); i++) await fn(i);
  const rounds = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await fn(i);
    rounds.push(((performance.now() - start) * 1000) / iterations);
  }
  rounds.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(52)} ${rounds[2].toFixed(2).padStart(9)} us/op  (min ${rounds[0].toFixed(2)}, max ${rounds[4].toFixed(2)})`,
  );
}

// Path canonicalization.
measure("canonicalizeTarget, canonical path", 200_000, () =>
  canonicalizeTarget("/api/v1/users/42?x=1"),
);
measure("canonicalizeTarget, path needing rewrite", 200_000, () =>
  canonicalizeTarget("/api//v1/./users/%7Ebob/../42"),
);

// Route lookup over 10, 1,000 and 10,000 routes (one host per 10 routes): the cost must not grow.
for (const count of [10, 1_000, 10_000]) {
  const entries = [];
  const hosts = Math.max(1, count / 10);
  for (let i = 0; i < count; i++)
    entries.push({
      host: `app${i % hosts}.corp.test`,
      pathPrefix: `/svc${i}/`,
      value: i,
      where: `routes[${i}]`,
    });
  const { table } = buildRouteTable(entries);
  measure(`route lookup, ${count.toLocaleString("en")} routes`, 200_000, (i) =>
    table.lookup(`app${i % hosts}.corp.test`, `/svc${i % count}/x/y`),
  );
}

// Policy: one rule of 10 criteria, allowed (fast path) and denied (traced).
const lists = new Map([["v3", ["ab".repeat(48)]]]);
const { policy } = compilePolicy(
  {
    allow: [
      {
        "identity.groups": { has: "finance" },
        "identity.spiffeId": { prefix: "spiffe://corp.test/" },
        "device.managed": true,
        "device.diskEncrypted": true,
        "device.osVersion": { gte: "14.2" },
        "tee.platform": { in: ["sev-snp", "tdx"] },
        "tee.measurement": { inList: "v3" },
        "tee.debug": false,
        "tee.age": { lt: "5m" },
        "request.sourceIp": { cidr: ["10.0.0.0/8"] },
      },
    ],
  },
  { path: "routes[0].policy", route: "bench", lists },
);
const claims = {
  identity: { source: "certificate", groups: ["finance"], spiffeId: "spiffe://corp.test/u/a" },
  device: { managed: true, diskEncrypted: true, osVersion: "14.3.1" },
  tee: { platform: "sev-snp", measurement: "ab".repeat(48), debug: false, age: 1000 },
  request: { method: "GET", path: "/", host: "a", sourceIp: "10.1.2.3", time: 0 },
};
const denied = { ...claims, tee: { ...claims.tee, debug: true } };
measure("policy evaluate, 10 criteria, allow", 500_000, () => policy.evaluate(claims));
measure("policy evaluate, 10 criteria, deny (with trace)", 200_000, () => policy.evaluate(denied));

// Identity from a client certificate (once per connection).
const ca = await createCertificateAuthority({ commonName: "bench CA" });
const leaf = await ca.issue({
  commonName: "alice",
  emails: ["alice@corp.test"],
  uris: ["spiffe://corp.test/user/alice"],
});
const der = new X509Certificate(leaf.certPem).raw;
measure("identity from a certificate, first connection (full parse)", 2_000, () =>
  parseCertificateIdentity(der, { allowMissingEku: false }),
);
measure(
  "identity from a certificate seen before (per connection, cached by fingerprint)",
  5_000,
  () => identityFromCertificate(der, { allowMissingEku: false }),
);

// Device and TEE claims from a certificate's claims extension (per connection): with issuers
// that vouch for them (chain signatures checked), and with none (what an identity-only
// config pays).
const attestationCa = await ca.issueIntermediate("bench attestation CA");
const carol = await attestationCa.issue({
  commonName: "carol",
  uris: ["spiffe://corp.test/user/carol"],
  claims: {
    device: { managed: true, diskEncrypted: true, os: "linux", osVersion: "6.8.0" },
    tee: { platform: "sev-snp", measurement: "ab".repeat(48), debug: false, svn: 3 },
  },
});
const attestationCaCert = new X509Certificate(attestationCa.certPem);
const carolChain = [new X509Certificate(carol.certPem).raw, attestationCaCert.raw];
const vouching = [
  { name: "bench-posture", kind: "posture", cas: [attestationCaCert] },
  { name: "bench-attestation", kind: "attestation", cas: [attestationCaCert] },
];
if (claimsFromCertificate(carolChain, vouching, Date.now()).tee === undefined)
  throw new Error("the certificate's TEE claims were not believed");
measure("device+TEE claims from a certificate, vouched", 2_000, () =>
  claimsFromCertificate(carolChain, vouching, Date.now()),
);
measure("certificate claims, no vouching issuer", 5_000, () =>
  claimsFromCertificate([der], [], Date.now()),
);

// Token verification, ES256: cold (signature) and cached.
const { privateKey, publicKey } = await generateKeyPair("ES256");
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] };
const issuer = {
  name: "bench",
  kind: "attestation",
  header: "x-attestation-token",
  keys: localKeySource(jwks, "bench"),
  algorithms: ["ES256"],
  issuer: "https://att.test",
  audience: "verigate",
  skewMs: 60_000,
  maxAgeMs: undefined,
  bindToClientCert: false,
  groupsClaim: "groups",
  profile: undefined,
  requireNonce: false,
  nonceClaim: undefined,
};
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ x: 1 })
  .setProtectedHeader({ alg: "ES256", kid: "k1" })
  .setIssuer("https://att.test")
  .setAudience("verigate")
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(privateKey);
await measureAsync("token verify, ES256, cold (signature check)", 2_000, () =>
  verifyToken(token, issuer, Date.now()),
);
const verifier = new TokenVerifier();
await verifier.verify(token, issuer, Date.now());
measure("token verify, ES256, cached", 200_000, () => verifier.cached(token, issuer, Date.now()));
// A request's header is a new string whose hash the cache lookup computes: made afresh each
// time here, its making included (an upper bound).
measure("token verify, ES256, cached, the token a new string", 200_000, () =>
  verifier.cached(Buffer.from(token).toString(), issuer, Date.now()),
);

// Raw TEE evidence, real vectors read in place from ../shared/vectors (each at its own clock):
// a full verification (signatures and chain to the pinned vendor root) per call.
const { readFileSync, existsSync } = await import("node:fs");
const { createSevSnpVerifier } =
  await import("../dist/claims/evidence/sev-snp/sev-snp-verifier.js");
const { createTdxVerifier } = await import("../dist/claims/evidence/tdx/tdx-verifier.js");
const { createNitroVerifier } = await import("../dist/claims/evidence/nitro/nitro-verifier.js");
const vectors = new URL("../../shared/vectors/", import.meta.url);
if (existsSync(vectors)) {
  const read = (path) => readFileSync(new URL(path, vectors));
  const snpReport = Buffer.from(
    read("sev-snp/virtee-sev/report_milan.hex").toString("utf8").replace(/\s/g, ""),
    "hex",
  );
  const snpInput = { evidence: snpReport, certs: [read("sev-snp/virtee-sev/vcek_milan.der")] };
  const snp = createSevSnpVerifier();
  const snpAt = Date.parse("2025-06-01T00:00:00Z");
  if (!(await snp.verify(snpInput, snpAt)).ok) throw new Error("the SEV-SNP vector did not verify");
  await measureAsync("SEV-SNP report verify (virtee Milan)", 300, () =>
    snp.verify(snpInput, snpAt),
  );

  const tdx = createTdxVerifier();
  const tdxInput = { evidence: read("tdx/dcap-qvl/tdx_quote"), certs: [] };
  const tdxAt = Date.parse("2025-06-20T00:00:00Z");
  if (!(await tdx.verify(tdxInput, tdxAt)).ok) throw new Error("the TDX vector did not verify");
  await measureAsync("TDX quote verify (dcap-qvl v4, no collateral)", 300, () =>
    tdx.verify(tdxInput, tdxAt),
  );

  const nitro = createNitroVerifier();
  const nitroInput = {
    evidence: Buffer.from(
      read("nitro/blocky-nitrite/nitro_attestation.b64").toString("utf8").trim(),
      "base64",
    ),
    certs: [],
  };
  const nitroAt = Date.parse("2024-09-07T14:37:39.545Z");
  if (!(await nitro.verify(nitroInput, nitroAt)).ok)
    throw new Error("the Nitro vector did not verify");
  await measureAsync("Nitro document verify (blocky)", 300, () =>
    nitro.verify(nitroInput, nitroAt),
  );
} else {
  console.log("(../shared/vectors not found: evidence verification not measured)");
}
