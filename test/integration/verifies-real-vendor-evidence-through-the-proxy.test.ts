import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  evidenceHeader,
  flipBit,
  type EnvelopeParts,
} from "../support/evidence/evidence-delivery.js";
import { expectAllowed, expectDenied, type GatewayRequest } from "../support/expect-decision.js";
import { startGateway, type GatewayHarness } from "../support/gateway-harness.js";

/**
 * Real vendor evidence (AMD SEV-SNP reports, Intel TDX quotes, AWS Nitro documents
 * from public repositories, /work/shared/vectors) sent UNBOUND in x-tee-evidence to
 * a gateway that trusts only the SHIPPED pinned vendor roots. Each vector's
 * certificates are valid only at some past time: the gateway's clock is set to it.
 */

/** /work/shared/vectors/, seen from test/integration/ (read in place, never copied). */
const VECTORS = new URL("../../../shared/vectors/", import.meta.url);

function vector(path: string): Buffer {
  return readFileSync(new URL(path, VECTORS));
}

/** The DER certificates of a PEM file. */
function pemCertificates(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) =>
    Buffer.from(block.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ""), "base64"),
  );
}

/** Clocks at which every certificate of a vector is valid (vectors README, "Time"). */
const JUNE_2025 = Date.parse("2025-06-01T00:00:00Z");
/** The GCP VCEKs were issued on 2025-12-05. */
const JANUARY_2026 = Date.parse("2026-01-01T00:00:00Z");
/** go-tdx-guest's and trustee's v4 PCK chains. */
const JUNE_2023 = Date.parse("2023-06-20T00:00:00Z");
/** dcap-qvl tdx_quote's collateral: 2025-06-19T10:32:27Z to 2025-07-19T10:16:03Z. */
const DCAP_QVL_TIME = Date.parse("2025-06-20T00:00:00Z");
/** dcap-qvl tdx_quote_outdated's collateral: 2026-02-18T10:58:51Z to 2026-03-20T10:42:15Z. */
const DCAP_QVL_OUTDATED_TIME = Date.parse("2026-02-19T00:00:00Z");
/** The blocky-nitrite documents' own timestamps. */
const NITRO_TIME = Date.parse("2024-09-07T14:37:39.545Z");
const NITRO_DEBUG_TIME = Date.parse("2024-09-07T14:38:06.508Z");

/** What the vectors measure (launch measurement, MRTD, PCR0), as the verifiers read them. */
const MEASUREMENT = {
  goSevGuest:
    "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
  virteeMilan:
    "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
  gcp: "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
  sprE4:
    "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb",
  trusteeDebugTd:
    "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
  dcapQvl:
    "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
  dcapQvlOutdated:
    "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd",
  nitroPcr0:
    "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a",
} as const;

const SNP = {
  goSevGuest: (): EnvelopeParts => ({
    platform: "sev-snp",
    evidence: vector("sev-snp/go-sev-guest/attestation.bin"),
    certs: [vector("sev-snp/go-sev-guest/vcek.der")],
  }),
  virteeMilan: (): EnvelopeParts => ({
    platform: "sev-snp",
    evidence: Buffer.from(
      vector("sev-snp/virtee-sev/report_milan.hex").toString("utf8").replace(/\s+/g, ""),
      "hex",
    ),
    certs: [vector("sev-snp/virtee-sev/vcek_milan.der")],
  }),
  gcpVmpl1: (): EnvelopeParts => ({
    platform: "sev-snp",
    evidence: vector("sev-snp/teekit-gcp/sev-gcp-x25519-bound.bin"),
    certs: pemCertificates(vector("sev-snp/teekit-gcp/sev-gcp-x25519-vcek.pem").toString("utf8")),
  }),
};

const tdxQuote = (path: string): EnvelopeParts => ({
  platform: "tdx",
  evidence: vector(`tdx/${path}`),
  certs: [],
});

const nitroDocument = (name: string): EnvelopeParts => ({
  platform: "nitro",
  evidence: Buffer.from(vector(`nitro/blocky-nitrite/${name}`).toString("ascii").trim(), "base64"),
  certs: [],
});

function route(name: string, criteria: readonly string[]): string {
  return `  - name: ${name}
    match: { host: ${name}.test }
    upstream: "{{upstream}}"
    policy:
      allow:
        - ${criteria.join("\n          ")}
`;
}

describe("real vendor evidence, unbound, against the shipped roots", () => {
  let h: GatewayHarness;
  let clock = JUNE_2025;

  beforeAll(async () => {
    h = await startGateway({
      now: () => clock,
      extra: `measurements:
  snp-guests: ["${MEASUREMENT.goSevGuest}", "${MEASUREMENT.virteeMilan}"]
  tdx-guests: ["${MEASUREMENT.sprE4}", "${MEASUREMENT.trusteeDebugTd}"]
  enclaves: ["${MEASUREMENT.nitroPcr0}"]
issuers:
  - { name: amd, kind: attestation, evidence: sev-snp }
  - { name: intel, kind: attestation, evidence: tdx }
  - { name: aws, kind: attestation, evidence: nitro }
`,
      routes: [
        "routes:\n",
        route("snp", [
          "tee.platform: sev-snp",
          "tee.measurement: { inList: snp-guests }",
          "tee.debug: false",
        ]),
        route("snp-vmpl0", ["tee.platform: sev-snp", "tee.claims.vmpl: 0"]),
        route("tdx", [
          "tee.platform: tdx",
          "tee.measurement: { inList: tdx-guests }",
          "tee.debug: false",
        ]),
        route("tdx-tcb", [
          "tee.platform: tdx",
          "tee.measurement: { inList: tdx-guests }",
          "tee.debug: false",
          "tee.tcbStatus: UpToDate",
        ]),
        route("nitro", [
          "tee.platform: nitro",
          "tee.measurement: { inList: enclaves }",
          "tee.debug: false",
          "tee.age: { lt: 5m }",
        ]),
      ].join(""),
    });
  });
  afterAll(() => h.close());

  /** A request carrying `parts` to `host`.test, with the gateway's clock set to `at`. */
  function send(host: string, parts: EnvelopeParts, at: number): GatewayRequest {
    clock = at;
    return { as: h.pki.clients.alice, host: `${host}.test`, headers: evidenceHeader(parts) };
  }

  describe("AMD SEV-SNP", () => {
    it("verifies go-sev-guest's report, and refuses it as a debug guest", async () => {
      const line = await expectDenied(h, send("snp", SNP.goSevGuest(), JUNE_2025), 403, [
        "no-matching-rule",
        "attestation-debug-enabled",
      ]);
      expect(line).toMatchObject({
        teePlatform: "sev-snp",
        teeMeasurement: MEASUREMENT.goSevGuest,
        teeIssuer: "amd",
      });
    });

    it("lets virtee's non-debug Milan report with a listed measurement through", async () => {
      const { line, seen } = await expectAllowed(h, send("snp", SNP.virteeMilan(), JUNE_2025));
      expect(line).toMatchObject({
        route: "snp",
        teePlatform: "sev-snp",
        teeMeasurement: MEASUREMENT.virteeMilan,
        teeIssuer: "amd",
      });
      expect(seen.headers["x-tee-evidence"]).toBeUndefined();
    });

    it("refuses the GCP report made at VMPL 1 where tee.claims.vmpl: 0 is demanded", async () => {
      const line = await expectDenied(h, send("snp-vmpl0", SNP.gcpVmpl1(), JANUARY_2026), 403, [
        "no-matching-rule",
        "attestation-failed",
      ]);
      expect(line).toMatchObject({ teePlatform: "sev-snp", teeMeasurement: MEASUREMENT.gcp });
    });

    it("refuses a real report with one flipped bit", async () => {
      const parts = SNP.virteeMilan();
      const flipped = { ...parts, evidence: flipBit(parts.evidence, 0x90) }; // MEASUREMENT
      await expectDenied(h, send("snp", flipped, JUNE_2025), 401, ["evidence-invalid"]);
    });
  });

  describe("Intel TDX", () => {
    it("refuses trustee's debug TD", async () => {
      await expectDenied(h, send("tdx", tdxQuote("trustee/tdx_quote_4.dat"), JUNE_2023), 403, [
        "no-matching-rule",
        "attestation-debug-enabled",
      ]);
    });

    it("lets a non-debug quote with its MRTD listed through", async () => {
      const quote = tdxQuote("go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
      const { line } = await expectAllowed(h, send("tdx", quote, JUNE_2023));
      expect(line).toMatchObject({
        teePlatform: "tdx",
        teeMeasurement: MEASUREMENT.sprE4,
        teeIssuer: "intel",
      });
    });

    it("refuses it where tee.tcbStatus: UpToDate is demanded and no collateral is configured (status unknown)", async () => {
      const quote = tdxQuote("go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
      await expectDenied(h, send("tdx-tcb", quote, JUNE_2023), 403, [
        "no-matching-rule",
        "tcb-out-of-date",
      ]);
    });
  });

  describe("AWS Nitro", () => {
    it("refuses blocky's debug-mode document", async () => {
      // A debug enclave's PCR0-2 are all zero: its PCR0 is not the listed one either.
      await expectDenied(
        h,
        send("nitro", nitroDocument("nitro_attestation_debug.b64"), NITRO_DEBUG_TIME),
        403,
        ["no-matching-rule", "measurement-not-allowed", "attestation-debug-enabled"],
      );
    });

    it("lets blocky's document with PCR0 listed through", async () => {
      const { line } = await expectAllowed(
        h,
        send("nitro", nitroDocument("nitro_attestation.b64"), NITRO_TIME),
      );
      expect(line).toMatchObject({
        teePlatform: "nitro",
        teeMeasurement: MEASUREMENT.nitroPcr0,
        teeIssuer: "aws",
      });
    });

    it("refuses blocky's self-signed (non-AWS) document", async () => {
      await expectDenied(
        h,
        send("nitro", nitroDocument("selfsigned_attestation.b64"), NITRO_TIME),
        401,
        ["evidence-invalid"],
      );
    });
  });
});

/** How the CRL files are written: DER (as Intel serves the root CA CRL), or PEM text. */
type CrlEncoding = "der" | "pem";

/**
 * dcap-qvl keeps each PCS piece apart (signed text and hex signature; CRLs as hex DER):
 * written out here as the files an operator would download from Intel's PCS.
 */
function dcapQvlCollateralFiles(
  file: string,
  crlEncoding: CrlEncoding,
): Record<string, string | Buffer> {
  const json = JSON.parse(vector(`tdx/dcap-qvl/${file}`).toString("utf8")) as Record<
    string,
    string
  >;
  const field = (name: string): string => {
    const value = json[name];
    if (value === undefined) throw new Error(`${file} has no ${name}`);
    return value;
  };
  const crl = (hex: string): string | Buffer => {
    const der = Buffer.from(hex, "hex");
    if (crlEncoding === "der") return der;
    const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
    return `-----BEGIN X509 CRL-----\n${lines.join("\n")}\n-----END X509 CRL-----\n`;
  };
  // PCS response bodies: the signed member's exact text, then its signature.
  return {
    "tcb-info.json": `{"tcbInfo":${field("tcb_info")},"signature":"${field("tcb_info_signature")}"}`,
    "tcb-info-chain.pem": field("tcb_info_issuer_chain"),
    "qe-identity.json": `{"enclaveIdentity":${field("qe_identity")},"signature":"${field("qe_identity_signature")}"}`,
    "qe-identity-chain.pem": field("qe_identity_issuer_chain"),
    "pck.crl": crl(field("pck_crl")),
    "pck-crl-chain.pem": field("pck_crl_issuer_chain"),
    "root-ca.crl": crl(field("root_ca_crl")),
  };
}

interface CollateralCase {
  readonly quote: string;
  readonly collateral: string;
  readonly at: number;
  readonly mrtd: string;
}

const DCAP_QVL: CollateralCase = {
  quote: "tdx_quote",
  collateral: "tdx_quote_collateral.json",
  at: DCAP_QVL_TIME,
  mrtd: MEASUREMENT.dcapQvl,
};
const DCAP_QVL_OUTDATED: CollateralCase = {
  quote: "tdx_quote_outdated",
  collateral: "tdx_quote_outdated_collateral.json",
  at: DCAP_QVL_OUTDATED_TIME,
  mrtd: MEASUREMENT.dcapQvlOutdated,
};

/**
 * A gateway whose TDX issuer has the case's collateral, with a route demanding
 * tee.tcbStatus: UpToDate. Collateral is verified when the config loads, so the config
 * loads at a time inside the collateral's window, and the gateway runs at that time.
 */
function collateralGateway(c: CollateralCase, crlEncoding: CrlEncoding): Promise<GatewayHarness> {
  return startGateway({
    loadedAt: new Date(c.at),
    now: () => c.at,
    files: dcapQvlCollateralFiles(c.collateral, crlEncoding),
    extra: `measurements:
  tdx-guests: ["${c.mrtd}"]
issuers:
  - name: intel
    kind: attestation
    evidence: tdx
    collateral:
      tcbInfo: tcb-info.json
      tcbInfoIssuerChain: tcb-info-chain.pem
      qeIdentity: qe-identity.json
      qeIdentityIssuerChain: qe-identity-chain.pem
      pckCrl: pck.crl
      pckCrlIssuerChain: pck-crl-chain.pem
      rootCaCrl: root-ca.crl
`,
    routes: `routes:\n${route("tdx-tcb", [
      "tee.platform: tdx",
      "tee.measurement: { inList: tdx-guests }",
      "tee.debug: false",
      "tee.tcbStatus: UpToDate",
    ])}`,
  });
}

function quoteRequest(h: GatewayHarness, c: CollateralCase): GatewayRequest {
  return {
    as: h.pki.clients.alice,
    host: "tdx-tcb.test",
    headers: evidenceHeader(tdxQuote(`dcap-qvl/${c.quote}`)),
  };
}

describe("dcap-qvl quotes with their Intel PCS collateral configured (CRLs as DER files)", () => {
  let upToDate: GatewayHarness;
  let outdated: GatewayHarness;

  beforeAll(async () => {
    [upToDate, outdated] = await Promise.all([
      collateralGateway(DCAP_QVL, "der"),
      collateralGateway(DCAP_QVL_OUTDATED, "der"),
    ]);
  });
  afterAll(async () => {
    await Promise.all([upToDate.close(), outdated.close()]);
  });

  it("lets tdx_quote through where tee.tcbStatus: UpToDate is demanded", async () => {
    const { line } = await expectAllowed(upToDate, quoteRequest(upToDate, DCAP_QVL));
    expect(line).toMatchObject({
      teePlatform: "tdx",
      teeMeasurement: DCAP_QVL.mrtd,
      teeIssuer: "intel",
    });
  });

  it("refuses tdx_quote_outdated, which no TCB level of its collateral describes", async () => {
    await expectDenied(outdated, quoteRequest(outdated, DCAP_QVL_OUTDATED), 403, [
      "no-matching-rule",
      "tcb-out-of-date",
    ]);
  });
});

describe("the same collateral with its CRLs as PEM files", () => {
  it("loads, and judges tdx_quote UpToDate", async () => {
    const h = await collateralGateway(DCAP_QVL, "pem");
    try {
      await expectAllowed(h, quoteRequest(h, DCAP_QVL));
    } finally {
      await h.close();
    }
  });
});
