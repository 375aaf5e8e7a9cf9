import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { EvidenceInput } from "../../../../../src/claims/evidence/evidence.js";
import {
  parseSnpReport,
  SNP_REPORT_SIZE,
} from "../../../../../src/claims/evidence/sev-snp/parse-report.js";
import { createSevSnpVerifier } from "../../../../../src/claims/evidence/sev-snp/sev-snp-verifier.js";
import { getSnpTestChain, makeSnpReport } from "../../../../support/evidence/sev-snp-factory.js";
import { loadVector, SNP_VECTORS } from "./snp-vectors.js";

const verifier = createSevSnpVerifier();
const NOW = SNP_VECTORS["trustee-vcek"].now;

/** Byte strings of any length, and many of exactly a report's length. */
const reportLikeBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2 * SNP_REPORT_SIZE }),
  fc.uint8Array({ minLength: SNP_REPORT_SIZE, maxLength: SNP_REPORT_SIZE }),
);

/** A list of edits: (offset, non-zero XOR mask). */
const edits = (size: number): fc.Arbitrary<[number, number][]> =>
  fc.array(fc.tuple(fc.nat({ max: size - 1 }), fc.integer({ min: 1, max: 0xff })), {
    minLength: 1,
    maxLength: 4,
  });

function applied(bytes: Buffer, list: readonly [number, number][]): Buffer {
  const copy = Buffer.from(bytes);
  for (const [offset, mask] of list) copy[offset] = (copy[offset] ?? 0) ^ mask;
  return copy;
}

describe("SEV-SNP verification never throws", () => {
  let real: EvidenceInput;
  beforeAll(async () => {
    real = await loadVector("trustee-vcek");
  });

  it("parses random bytes into a report or a problem, never an exception", () => {
    fc.assert(
      fc.property(reportLikeBytes, (bytes) => {
        const outcome = parseSnpReport(bytes);
        expect(typeof (outcome.ok ? outcome.report.version : outcome.problem)).not.toBe(
          "undefined",
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses random reports and random certificates", async () => {
    await fc.assert(
      fc.asyncProperty(
        reportLikeBytes,
        fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 4 }),
        async (evidence, certs) => {
          const outcome = await verifier.verify(
            { evidence: Buffer.from(evidence), certs: certs.map((c) => Buffer.from(c)) },
            NOW,
          );
          expect(outcome.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("refuses every mutation of a real report: each byte is signed, reserved or the signature", async () => {
    await fc.assert(
      fc.asyncProperty(edits(SNP_REPORT_SIZE), async (list) => {
        const outcome = await verifier.verify(
          { evidence: applied(real.evidence, list), certs: real.certs },
          NOW,
        );
        expect(outcome.ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it("refuses every mutation of a real VCEK", async () => {
    const vcek = real.certs[0] ?? Buffer.alloc(0);
    await fc.assert(
      fc.asyncProperty(edits(vcek.length), async (list) => {
        const outcome = await verifier.verify(
          { evidence: real.evidence, certs: [applied(vcek, list)] },
          NOW,
        );
        expect(outcome.ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it("handles arbitrary clocks without throwing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.double(), fc.integer()), async (now) => {
        const outcome = await verifier.verify(real, now);
        expect(typeof outcome.ok).toBe("boolean");
      }),
      { numRuns: 200 },
    );
  });

  it("round-trips any measurement, VMPL, debug bit, SVN and report data through a signed report", async () => {
    const testVerifier = createSevSnpVerifier({ roots: [(await getSnpTestChain()).arkPem] });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.nat({ max: 0xffffffff }),
        async (measurement, reportData, vmpl, debug, guestSvn) => {
          const input = await makeSnpReport({
            measurement: Buffer.from(measurement),
            reportData: Buffer.from(reportData),
            vmpl,
            debug,
            guestSvn,
          });
          const outcome = await testVerifier.verify(input, Date.now());
          if (!outcome.ok) throw new Error(outcome.problem);
          expect(outcome.evidence.measurement).toBe(Buffer.from(measurement).toString("hex"));
          expect(outcome.evidence.reportData.equals(Buffer.from(reportData))).toBe(true);
          expect(outcome.evidence.debug).toBe(debug);
          expect(outcome.evidence.svn).toBe(guestSvn);
          expect(outcome.evidence.claims["vmpl"]).toBe(vmpl);
        },
      ),
      { numRuns: 50 },
    );
  });
});
