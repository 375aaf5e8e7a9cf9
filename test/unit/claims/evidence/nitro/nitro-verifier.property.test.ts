import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeNitroDocument } from "../../../../../src/claims/evidence/nitro/nitro-document.js";
import { createNitroVerifier } from "../../../../../src/claims/evidence/nitro/nitro-verifier.js";
import { realNitroDocuments, type RealNitroDocument } from "./nitro-vectors.js";

const verifier = createNitroVerifier();
const [blocky, , , evervaultDebug] = realNitroDocuments() as [
  RealNitroDocument,
  RealNitroDocument,
  RealNitroDocument,
  RealNitroDocument,
];

/** Verifies, failing the property if verify throws or rejects instead of answering. */
async function verifyAt(bytes: Uint8Array, now: number): Promise<boolean> {
  const outcome = await verifier.verify({ evidence: Buffer.from(bytes), certs: [] }, now);
  if (!outcome.ok) expect(typeof outcome.problem).toBe("string");
  return outcome.ok;
}

describe("random input never throws and never verifies", () => {
  it("random bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        expect(() => decodeNitroDocument(bytes)).not.toThrow();
        expect(await verifyAt(bytes, blocky.now)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("random bytes after a genuine COSE_Sign1 head", async () => {
    const head = blocky.bytes.subarray(0, 10);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (tail) => {
        expect(await verifyAt(Buffer.concat([head, tail]), blocky.now)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("a real document changed anywhere never verifies", () => {
  for (const document of [blocky, evervaultDebug]) {
    it(`one byte of ${document.name} changed`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: document.bytes.length - 1 }),
          fc.integer({ min: 1, max: 255 }),
          async (offset, mask) => {
            const mutated = Buffer.from(document.bytes);
            mutated[offset] = (mutated[offset] ?? 0) ^ mask;
            expect(await verifyAt(mutated, document.now)).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it("a slice of it cut out or repeated", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: blocky.bytes.length - 1 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        async (start, length, isRepeat) => {
          const slice = blocky.bytes.subarray(start, start + length);
          const mutated = Buffer.concat([
            blocky.bytes.subarray(0, start),
            ...(isRepeat ? [slice, slice] : []),
            blocky.bytes.subarray(start + length),
          ]);
          expect(await verifyAt(mutated, blocky.now)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
