import { createHash, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  isIssuedBy,
  parseAmdCertificate,
} from "../../../../../src/claims/evidence/sev-snp/amd-certificate.js";
import {
  AMD_ARKS,
  AMD_INTERMEDIATES,
  pemToDer,
} from "../../../../../src/claims/evidence/sev-snp/amd-roots.js";
import { createSnpTrustStore } from "../../../../../src/claims/evidence/sev-snp/verify-chain.js";
import { getSnpTestChain } from "../../../../support/evidence/sev-snp-factory.js";
import { readCertificates } from "./snp-vectors.js";

const VENDOR_BUNDLES = {
  Milan: ["go-sev-guest/ask_ark_milan.pem", "go-sev-guest/ask_ark_milan_vlek.pem"],
  Genoa: ["go-sev-guest/ask_ark_genoa.pem", "go-sev-guest/ask_ark_genoa_vlek.pem"],
  Turin: ["go-sev-guest/ask_ark_turin_vcek.pem", "go-sev-guest/ask_ark_turin_vlek.pem"],
} as const;

describe("the pinned AMD roots", () => {
  it("pin the three ARKs by these SHA-256 fingerprints", () => {
    expect(AMD_ARKS.map((ark) => [ark.commonName, ark.sha256])).toEqual([
      ["ARK-Milan", "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"],
      ["ARK-Genoa", "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"],
      ["ARK-Turin", "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"],
    ]);
  });

  it.each(Object.entries(VENDOR_BUNDLES))(
    "are byte for byte the %s certificates of AMD's cert_chain bundles",
    async (line, [vcekBundle, vlekBundle]) => {
      const [ask, ark] = await readCertificates(vcekBundle);
      const [asvk, arkAgain] = await readCertificates(vlekBundle);
      const pinned = (commonName: string): Buffer => {
        const found = [...AMD_ARKS, ...AMD_INTERMEDIATES].find((c) => c.commonName === commonName);
        return pemToDer(found?.pem ?? "");
      };
      expect(pinned(`ARK-${line}`).equals(ark ?? Buffer.alloc(0))).toBe(true);
      expect(pinned(`ARK-${line}`).equals(arkAgain ?? Buffer.alloc(0))).toBe(true);
      expect(pinned(`SEV-${line}`).equals(ask ?? Buffer.alloc(0))).toBe(true);
      expect(pinned(`SEV-VLEK-${line}`).equals(asvk ?? Buffer.alloc(0))).toBe(true);
    },
  );

  it("have the recorded fingerprints, and each ARK is self-signed and issued its ASK and ASVK", () => {
    const arks = AMD_ARKS.map((ark) => parseAmdCertificate(pemToDer(ark.pem)));
    for (const [i, ark] of arks.entries()) {
      expect(ark.fingerprint).toBe(AMD_ARKS[i]?.sha256);
      expect(
        createHash("sha256")
          .update(new X509Certificate(AMD_ARKS[i]?.pem ?? "").raw)
          .digest("hex"),
      ).toBe(ark.fingerprint);
      expect(isIssuedBy(ark, ark)).toBe(true);
      expect(ark.isCa).toBe(true);
    }
    for (const pinned of AMD_INTERMEDIATES) {
      const ca = parseAmdCertificate(pemToDer(pinned.pem));
      expect(ca.fingerprint).toBe(pinned.sha256);
      expect(arks.filter((ark) => isIssuedBy(ca, ark))).toHaveLength(1);
    }
  });
});

describe("createSnpTrustStore (configuration)", () => {
  const arkPems = AMD_ARKS.map((ark) => ark.pem);
  const intermediatePems = AMD_INTERMEDIATES.map((ca) => ca.pem);

  it("keeps each shipped intermediate with the root that issued it", () => {
    const store = createSnpTrustStore(arkPems, intermediatePems, []);
    expect(store.roots).toHaveLength(3);
    expect(
      store.intermediates.map((t) => [t.ca.subjectCommonName, t.root.subjectCommonName]),
    ).toEqual([
      ["SEV-Milan", "ARK-Milan"],
      ["SEV-VLEK-Milan", "ARK-Milan"],
      ["SEV-Genoa", "ARK-Genoa"],
      ["SEV-VLEK-Genoa", "ARK-Genoa"],
      ["SEV-Turin", "ARK-Turin"],
      ["SEV-VLEK-Turin", "ARK-Turin"],
    ]);
  });

  it("drops shipped intermediates whose root is not configured", () => {
    const store = createSnpTrustStore([AMD_ARKS[1]?.pem ?? ""], intermediatePems, []);
    expect(store.intermediates.map((t) => t.ca.subjectCommonName)).toEqual([
      "SEV-Genoa",
      "SEV-VLEK-Genoa",
    ]);
  });

  it("refuses a configuration that trusts nothing, or the wrong things", async () => {
    const chain = await getSnpTestChain();
    expect(() => createSnpTrustStore([], [], [])).toThrow("at least one root");
    expect(() => createSnpTrustStore(["not a pem"], [], [])).toThrow(
      "roots[0]: not a PEM certificate",
    );
    expect(() => createSnpTrustStore([AMD_INTERMEDIATES[0]?.pem ?? ""], [], [])).toThrow(
      "roots[0] is not an AMD root key certificate",
    );
    expect(() => createSnpTrustStore([chain.ask.pem], [], [])).toThrow(
      "roots[0] is not an AMD root key certificate",
    );
    expect(() => createSnpTrustStore(arkPems, [], [chain.ask.pem])).toThrow(
      "intermediates[0] (SEV-Milan) is not issued by any configured root",
    );
    expect(() => createSnpTrustStore(arkPems, [], [arkPems[0] ?? ""])).toThrow(
      "is not an AMD ASK or ASVK",
    );
  });
});
