import { describe, expect, it } from "vitest";
import { formatProblem } from "../../../src/config/config-problem.js";
import { parseConfigText, validateConfig } from "../../../src/config/load-config.js";

function problemsOf(yaml: string): string[] {
  const parsed = parseConfigText(yaml);
  if (parsed.problems.length > 0) return parsed.problems.map(formatProblem);
  return validateConfig(parsed.value).problems.map(formatProblem);
}

const TLS = `tls: { cert: s.pem, key: k.pem, clientCAs: ca.pem }`;
const ROUTE = `routes:
  - name: app
    upstream: http://127.0.0.1:9000
`;

describe("config validation", () => {
  it("accepts a minimal config and fills in the secure defaults", () => {
    const parsed = parseConfigText(`${TLS}\n${ROUTE}`);
    const { config, problems } = validateConfig(parsed.value);
    expect(problems).toEqual([]);
    expect(config?.tls.minVersion).toBe("TLSv1.2");
    expect(config?.tls.unsafeAllowClientCertWithoutEku).toBe(false);
    expect(config?.admin).toEqual({ address: "127.0.0.1", port: 9090 });
    expect(config?.limits).toMatchObject({
      headersTimeout: 10_000,
      upstreamTimeout: 30_000,
      maxHeaderBytes: 16_384,
    });
    expect(config?.assertion.reuseFor).toBe(10_000);
    expect(config?.routes[0]).toMatchObject({
      mode: "enforce",
      identity: "required",
      match: { pathPrefix: "/" },
    });
  });

  it.each([
    [`${TLS}\nlisten: { port: 8443, adress: x }\n${ROUTE}`, ['listen: unknown key "adress"']],
    [
      `${TLS}\nassertion: { reuseFor: 31s }\n${ROUTE}`,
      ["assertion.reuseFor: at most 30s: a reused assertion keeps 30 s of its 60 s life"],
    ],
    [
      `${TLS}\nroutes:\n  - name: app\n`,
      ["routes[0].upstream: is required: where allowed requests go (http:// or https:// URL)"],
    ],
    [
      `${TLS}\nroutes: []\n`,
      ["routes: at least one route is needed (verigate denies everything else)"],
    ],
    [`tls: { cert: s.pem, key: k.pem }\n${ROUTE}`, ["tls.clientCAs: is required"]],
    [
      `${TLS}\nlimits: { upstreamTimeout: 30 }\n${ROUTE}`,
      ["limits.upstreamTimeout: Invalid input: expected string, received number"],
    ],
    [
      `${TLS}\nlimits: { upstreamTimeout: 30 seconds }\n${ROUTE}`,
      ['limits.upstreamTimeout: "30 seconds" is not a duration (write 500ms, 10s, 5m, 1h)'],
    ],
    [`${TLS}\n${ROUTE}    mode: shadow\n`, ['routes[0].mode: must be one of "enforce", "audit"']],
    [`${TLS}\n${ROUTE}    name2: x\n`, ['routes[0]: unknown key "name2"']],
    [
      `${TLS}\nmeasurements: { v1: [ "zz" ] }\n${ROUTE}`,
      ["measurements.v1[0]: must be a hex digest (32 to 128 hex digits)"],
    ],
    [
      `${TLS}\nissuers: [ { name: maa, kind: attestation, profile: azur-maa, header: "x att" } ]\n${ROUTE}`,
      [
        "issuers[0].header: must be a header name (letters, digits, -)",
        'issuers[0].profile: must be one of "azure-maa", "intel-trust-authority", "gcp-confidential-space", "veraison-ear", "generic"',
      ],
    ],
  ])("reports %j as path: problem", (yaml, expected) => {
    expect(problemsOf(yaml)).toEqual(expected);
  });

  it("reports every problem at once, not just the first", () => {
    const problems = problemsOf(
      `tls: { cert: s.pem }\nroutes:\n  - name: "Bad Name"\n    upstrem: x\n`,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        "tls.key: is required",
        "tls.clientCAs: is required",
        expect.stringMatching(/^routes\[0\]\.name: must be 1-63/) as unknown,
        "routes[0].upstream: is required: where allowed requests go (http:// or https:// URL)",
        'routes[0]: unknown key "upstrem"',
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it.each([
    ["routes: [ unclosed", /^line 1, column/],
    ["a: 1\na: 2\n", /^line 2, column 1: Map keys must be unique/],
    ["- just\n- a list\n", /^the config must be a YAML mapping/],
    ["", /^the config must be a YAML mapping/],
  ])("reports YAML that is not a config mapping: %j", (yaml, expected) => {
    const problems = problemsOf(yaml);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });
});

describe("evidence issuer keys", () => {
  it("accepts a partial minimumTcb and refuses unknown TCB components", () => {
    const partial = `${TLS}\nissuers: [ { name: snp, kind: attestation, evidence: sev-snp, minimumTcb: { snp: 20 } } ]\n${ROUTE}`;
    expect(problemsOf(partial)).toEqual([]);
    const unknown = `${TLS}\nissuers: [ { name: snp, kind: attestation, evidence: sev-snp, minimumTcb: { ucode: 1 } } ]\n${ROUTE}`;
    expect(problemsOf(unknown)).toHaveLength(1);
    expect(problemsOf(unknown)[0]).toMatch(/^issuers\[0\]\.minimumTcb/);
  });
});
