import { describe, expect, it } from "vitest";
import { createNitroVerifier } from "../../../../../src/claims/evidence/nitro/nitro-verifier.js";
import { MAX_NITRO_DOCUMENT_BYTES } from "../../../../../src/claims/evidence/nitro/nitro-document.js";
import { flipBit, payloadField, reencode, uniqueOffset } from "./nitro-tamper.js";
import { realNitroDocuments, type RealNitroDocument } from "./nitro-vectors.js";

const verifier = createNitroVerifier();
const [blocky, blockyDebug, evervaultValid, evervaultDebug, ga] = realNitroDocuments() as [
  RealNitroDocument,
  RealNitroDocument,
  RealNitroDocument,
  RealNitroDocument,
  RealNitroDocument,
];

const SIGNATURE_PROBLEM = "signature: does not verify with the certificate's key";

async function problemOf(bytes: Buffer, now: number): Promise<string> {
  const outcome = await verifier.verify({ evidence: bytes, certs: [] }, now);
  if (outcome.ok) throw new Error("a tampered document verified");
  return outcome.problem;
}

function fieldBytes(document: RealNitroDocument, field: string): Buffer {
  const value = payloadField(document.bytes, field);
  if (!(value instanceof Uint8Array)) throw new Error(`${field} is not bytes`);
  return Buffer.from(value);
}

describe("a flipped bit in the signed payload breaks the signature", () => {
  it("in PCR0", async () => {
    const pcrs = payloadField(blocky.bytes, "pcrs") as Map<number, Uint8Array>;
    const offset = uniqueOffset(blocky.bytes, pcrs.get(0) ?? new Uint8Array());
    expect(await problemOf(flipBit(blocky.bytes, offset + 10), blocky.now)).toBe(SIGNATURE_PROBLEM);
  });

  it("in user_data", async () => {
    const offset = uniqueOffset(ga.bytes, fieldBytes(ga, "user_data"));
    expect(await problemOf(flipBit(ga.bytes, offset + 40), ga.now)).toBe(SIGNATURE_PROBLEM);
  });

  it("in the nonce", async () => {
    const offset = uniqueOffset(ga.bytes, fieldBytes(ga, "nonce"));
    expect(await problemOf(flipBit(ga.bytes, offset), ga.now)).toBe(SIGNATURE_PROBLEM);
  });

  it("in the timestamp's last bit (one millisecond)", async () => {
    const encoded = Buffer.alloc(8);
    encoded.writeBigUInt64BE(BigInt(blocky.timestamp));
    const offset = uniqueOffset(blocky.bytes, encoded);
    expect(await problemOf(flipBit(blocky.bytes, offset + 7), blocky.now)).toBe(SIGNATURE_PROBLEM);
  });

  it("in the module ID", async () => {
    // The ID also appears in the leaf's subject: find it as the module_id field's value.
    const field = Buffer.concat([
      Buffer.from("module_id"),
      Buffer.from([0x78, 0x27]),
      Buffer.from("i-0a22e5c5f24d22174-enc0191cceb4289903f"),
    ]);
    const offset = uniqueOffset(blocky.bytes, field);
    expect(await problemOf(flipBit(blocky.bytes, offset + 20), blocky.now)).toBe(SIGNATURE_PROBLEM);
  });
});

describe("other tampering is refused with its own problem", () => {
  it("a timestamp moved into the verifier's future", async () => {
    const encoded = Buffer.alloc(8);
    encoded.writeBigUInt64BE(BigInt(blocky.timestamp));
    const offset = uniqueOffset(blocky.bytes, encoded);
    const tampered = Buffer.from(blocky.bytes);
    tampered.writeBigUInt64BE(BigInt(blocky.timestamp + 3_600_000), offset);
    expect(await problemOf(tampered, blocky.now)).toBe(
      "timestamp 2024-09-07T15:37:39.545Z is in the future",
    );
  });

  it("a timestamp moved beyond the leaf certificate's life", async () => {
    const tampered = reencode(blocky.bytes, (parts) => {
      parts.payload.set("timestamp", BigInt(blocky.timestamp + 4 * 3_600_000));
    });
    expect(await problemOf(tampered, blocky.now + 5 * 3_600_000)).toBe(
      "certificate chain: certificate: expired at the document's time (valid to 2024-09-07T17:37:39.000Z)",
    );
  });

  it("a flipped bit in the signature", async () => {
    const tampered = flipBit(blocky.bytes, blocky.bytes.length - 1);
    expect(await problemOf(tampered, blocky.now)).toBe(SIGNATURE_PROBLEM);
  });

  it("a signature from another document", async () => {
    const tampered = reencode(blocky.bytes, (parts) => {
      parts.signature = reencodeParts(blockyDebug.bytes).signature;
    });
    expect(await problemOf(tampered, blocky.now)).toBe(SIGNATURE_PROBLEM);
  });

  it("a protected header naming another algorithm (ES256)", async () => {
    // 84 44 a1013822 ... becomes 84 43 a10126 ...: the header's bstr shrinks by one byte.
    expect(blocky.bytes.subarray(0, 6).toString("hex")).toBe("8444a1013822");
    const tampered = Buffer.concat([Buffer.from("8443a10126", "hex"), blocky.bytes.subarray(6)]);
    expect(await problemOf(tampered, blocky.now)).toBe(
      "cose: protected header: alg must be ES384 (-35), got -7",
    );
  });

  it("a cabundle swapped for another document's chain", async () => {
    const tampered = reencode(blocky.bytes, (parts) => {
      parts.payload.set("cabundle", payloadField(evervaultValid.bytes, "cabundle"));
    });
    // evervault's chain is valid in 2022, not at this document's time: the first
    // certificate checked that does not cover the document's time is refused.
    expect(await problemOf(tampered, blocky.now)).toBe(
      "certificate chain: cabundle[3]: expired at the document's time (valid to 2022-10-14T08:42:46.000Z)",
    );
  });

  it("a cabundle from another instance, valid at the document's time", async () => {
    // evervault's two beta documents come from two instances a day apart; the debug
    // one's CAs (instance CA valid 2022-10-12 13:44 to 10-13 13:44) cover the other's time.
    const tampered = reencode(evervaultValid.bytes, (parts) => {
      parts.payload.set("cabundle", payloadField(evervaultDebug.bytes, "cabundle"));
    });
    expect(await problemOf(tampered, evervaultValid.now)).toBe(
      "certificate chain: certificate was not issued by cabundle[3]",
    );
  });

  it("a leaf from another instance's document", async () => {
    const tampered = reencode(blocky.bytes, (parts) => {
      parts.payload.set("certificate", payloadField(evervaultValid.bytes, "certificate"));
      parts.payload.set("timestamp", BigInt(evervaultValid.timestamp));
    });
    // Leaves live three hours and instance CAs a day: no real pair overlaps, and at the
    // other leaf's time blocky's CAs are not yet valid.
    expect(await problemOf(tampered, evervaultValid.now)).toBe(
      "certificate chain: cabundle[3]: not yet valid at the document's time (valid from 2024-09-07T13:06:36.000Z)",
    );
  });

  it("a leaf from a document of the same instance: the chain holds, the signature does not", async () => {
    // blocky's leaf (14:37:36 to 17:37:36) covers the debug document's time (14:38:06).
    const tampered = reencode(blockyDebug.bytes, (parts) => {
      parts.payload.set("certificate", payloadField(blocky.bytes, "certificate"));
    });
    expect(await problemOf(tampered, blockyDebug.now)).toBe(SIGNATURE_PROBLEM);
  });

  it("the same leaf re-encoded with its original signature", async () => {
    // Decoding and re-encoding changes no value; the bytes, and so the signature, must still match.
    const reencoded = reencode(blocky.bytes, () => undefined);
    const outcome = await verifier.verify({ evidence: reencoded, certs: [] }, blocky.now);
    expect(outcome.ok).toBe(Buffer.compare(reencoded, blocky.bytes) === 0);
  });

  it("a leaf from another chain whose issuer names match is caught by the signature check", async () => {
    const leaf = fieldBytes(blocky, "certificate");
    // Flip a bit in the leaf's own signature (its last byte): names and key IDs still match.
    const forged = flipBit(leaf, leaf.length - 1);
    const tampered = reencode(blocky.bytes, (parts) => {
      parts.payload.set("certificate", forged);
    });
    expect(await problemOf(tampered, blocky.now)).toBe(
      "certificate chain: certificate: signature does not verify with cabundle[3]'s key",
    );
  });
});

describe("malformed envelopes are refused before any cryptography", () => {
  it("every truncation", async () => {
    for (let length = 0; length < blocky.bytes.length; length++) {
      const outcome = await verifier.verify(
        { evidence: blocky.bytes.subarray(0, length), certs: [] },
        blocky.now,
      );
      expect(outcome.ok).toBe(false);
    }
  });

  it.each([
    [1, "cose: COSE_Sign1: array runs past the end of data at offset 0"],
    [6, "cose: COSE_Sign1: unexpected end of data at offset 6"],
    [100, "cose: COSE_Sign1: string runs past the end of data at offset 7"],
    [7538, "cose: COSE_Sign1: string runs past the end of data at offset 7441"],
  ])("a truncation to %i bytes", async (length, problem) => {
    expect(await problemOf(blocky.bytes.subarray(0, length), blocky.now)).toBe(problem);
  });

  it("a trailing byte", async () => {
    expect(await problemOf(Buffer.concat([blocky.bytes, Buffer.from([0])]), blocky.now)).toBe(
      `cose: COSE_Sign1: trailing data at offset ${blocky.bytes.length}`,
    );
  });

  it("an indefinite-length COSE array", async () => {
    const tampered = Buffer.concat([
      Buffer.from([0x9f]),
      blocky.bytes.subarray(1),
      Buffer.from([0xff]),
    ]);
    expect(await problemOf(tampered, blocky.now)).toBe(
      "cose: COSE_Sign1: indefinite length at offset 0",
    );
  });

  it("an indefinite-length payload map", async () => {
    const parts = reencodeParts(blocky.bytes);
    expect(parts.payload[0]).toBe(0xa9); // a map of nine fields
    const payload = Buffer.concat([
      Buffer.from([0xbf]),
      parts.payload.subarray(1),
      Buffer.from([0xff]),
    ]);
    expect(await problemOf(withPayload(blocky.bytes, payload), blocky.now)).toBe(
      "payload: indefinite length at offset 0",
    );
  });

  it("a duplicate payload field (a second nonce after the first)", async () => {
    const parts = reencodeParts(blocky.bytes);
    const payload = Buffer.concat([
      Buffer.from([0xaa]), // ten entries
      parts.payload.subarray(1),
      Buffer.from("656e6f6e636541ff", "hex"), // "nonce": h'ff'
    ]);
    expect(await problemOf(withPayload(blocky.bytes, payload), blocky.now)).toBe(
      `payload: duplicate map key at offset ${parts.payload.length}`,
    );
  });

  it("a document over the size bound", async () => {
    const big = Buffer.alloc(MAX_NITRO_DOCUMENT_BYTES + 1);
    expect(await problemOf(big, blocky.now)).toBe(
      `document is ${MAX_NITRO_DOCUMENT_BYTES + 1} bytes, more than ${MAX_NITRO_DOCUMENT_BYTES}`,
    );
  });

  it("certificates sent alongside (Nitro carries its own)", async () => {
    const outcome = await verifier.verify(
      { evidence: blocky.bytes, certs: [Buffer.from([0x30])] },
      blocky.now,
    );
    expect(outcome).toEqual({
      ok: false,
      problem: "nitro evidence carries its certificates; certs must be empty",
    });
  });

  it("a clock that is not a number", async () => {
    expect(await problemOf(blocky.bytes, Number.NaN)).toBe("now is not a finite time");
  });
});

/** The raw COSE parts of a document (payload still encoded). */
function reencodeParts(document: Buffer): {
  protectedHeader: Buffer;
  payload: Buffer;
  signature: Buffer;
} {
  // Header: 84 44 a1013822 a0, then the payload bstr (59 + two-byte length), then the signature.
  const payloadLength = document.readUInt16BE(8);
  const payload = document.subarray(10, 10 + payloadLength);
  return {
    protectedHeader: document.subarray(2, 6),
    payload,
    signature: document.subarray(10 + payloadLength + 2),
  };
}

/** `document` with its payload bytes replaced (and the bstr length adjusted). */
function withPayload(document: Buffer, payload: Buffer): Buffer {
  const { signature } = reencodeParts(document);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length);
  return Buffer.concat([
    document.subarray(0, 7),
    Buffer.from([0x59]),
    length,
    payload,
    Buffer.from([0x58, 0x60]),
    signature,
  ]);
}
