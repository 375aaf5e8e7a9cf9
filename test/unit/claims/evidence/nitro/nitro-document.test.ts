import { beforeAll, describe, expect, it } from "vitest";
import { decodeNitroDocument } from "../../../../../src/claims/evidence/nitro/nitro-document.js";
import { createNitroVerifier } from "../../../../../src/claims/evidence/nitro/nitro-verifier.js";
import {
  sharedNitroTestPki,
  type NitroTestPki,
} from "../../../../support/evidence/nitro-factory.js";
import { realNitroDocuments } from "./nitro-vectors.js";

let pki: NitroTestPki;

beforeAll(async () => {
  pki = await sharedNitroTestPki();
});

describe("decodeNitroDocument reads every real document", () => {
  it.each(realNitroDocuments())("$name", (document) => {
    const decoded = decodeNitroDocument(document.bytes);
    if (!decoded.ok) throw new Error(decoded.problem);
    expect(decoded.document.timestamp).toBe(document.timestamp);
    expect(decoded.document.digest).toBe("SHA384");
    expect(decoded.document.cabundle).toHaveLength(4);
    expect(decoded.document.signature).toHaveLength(96);
  });
});

type Edit = (payload: Map<string, unknown>) => void;
const pcrsOf = (payload: Map<string, unknown>): Map<number, unknown> =>
  payload.get("pcrs") as Map<number, unknown>;

// Every document here is correctly signed by the test PKI: signature-valid does not
// make a document that breaks the specification acceptable.
describe("decodeNitroDocument refuses fields outside the specification", () => {
  it.each<[string, Edit, string]>([
    ["an unknown field", (p) => p.set("extra", 1), 'unknown field "extra"'],
    ["a missing module_id", (p) => p.delete("module_id"), 'missing field "module_id"'],
    ["a missing certificate", (p) => p.delete("certificate"), 'missing field "certificate"'],
    ["a missing cabundle", (p) => p.delete("cabundle"), 'missing field "cabundle"'],
    ["a null cabundle", (p) => p.set("cabundle", null), "cabundle is not an array"],
    ["an empty cabundle", (p) => p.set("cabundle", []), "cabundle has 0 entries, not 1 to 8"],
    [
      "nine CA certificates",
      (p) => p.set("cabundle", Array(9).fill(Buffer.alloc(8))),
      "cabundle has 9 entries, not 1 to 8",
    ],
    [
      "an empty CA certificate",
      (p) => p.set("cabundle", [Buffer.alloc(0)]),
      "cabundle[0] is 0 bytes, not 1 to 1024",
    ],
    [
      "a CA certificate over 1024 bytes",
      (p) => p.set("cabundle", [Buffer.alloc(1025)]),
      "cabundle[0] is 1025 bytes, not 1 to 1024",
    ],
    ["a certificate as text", (p) => p.set("certificate", "MII..."), "certificate is not bytes"],
    ["an empty module_id", (p) => p.set("module_id", ""), "module_id is empty"],
    [
      "a module_id with a newline",
      (p) => p.set("module_id", "i-0\r\nX-Injected: 1"),
      "module_id is not printable ASCII",
    ],
    [
      "a module_id as bytes",
      (p) => p.set("module_id", Buffer.from("i-0")),
      "module_id is not text",
    ],
    ["digest SHA256", (p) => p.set("digest", "SHA256"), 'digest is "SHA256", not "SHA384"'],
    ["digest in lower case", (p) => p.set("digest", "sha384"), 'digest is "sha384", not "SHA384"'],
    ["a zero timestamp", (p) => p.set("timestamp", 0), "timestamp is not positive"],
    ["a negative timestamp", (p) => p.set("timestamp", -1), "timestamp is not positive"],
    ["a float timestamp", (p) => p.set("timestamp", 1.5), "float at offset 76"],
    ["a text timestamp", (p) => p.set("timestamp", "1725719859545"), "timestamp is not an integer"],
    ["pcrs as an array", (p) => p.set("pcrs", [Buffer.alloc(48)]), "pcrs is not a map"],
    ["no PCRs", (p) => p.set("pcrs", new Map()), "pcrs has 0 entries, not 1 to 32"],
    ["no PCR2", (p) => pcrsOf(p).delete(2), "pcrs: PCR2 is missing"],
    [
      "a PCR index of 32",
      (p) => pcrsOf(p).set(32, Buffer.alloc(48)),
      "pcrs: index 32 is not an integer from 0 to 31",
    ],
    [
      "a negative PCR index",
      (p) => pcrsOf(p).set(-1, Buffer.alloc(48)),
      "pcrs: index -1 is not an integer from 0 to 31",
    ],
    [
      "a text PCR index",
      (p) => pcrsOf(p).set("0" as unknown as number, Buffer.alloc(48)),
      'pcrs: index "0" is not an integer from 0 to 31',
    ],
    [
      "a 47-byte PCR",
      (p) => pcrsOf(p).set(0, Buffer.alloc(47)),
      "pcrs[0] is 47 bytes, not 32, 48 or 64",
    ],
    [
      "a 96-byte PCR",
      (p) => pcrsOf(p).set(3, Buffer.alloc(96)),
      "pcrs[3] is 96 bytes, not 32, 48 or 64",
    ],
    ["a null PCR", (p) => pcrsOf(p).set(3, null), "pcrs[3] is not bytes"],
    [
      "user_data over 1024 bytes",
      (p) => p.set("user_data", Buffer.alloc(1025)),
      "user_data is 1025 bytes, not 0 to 1024",
    ],
    [
      "a nonce over 1024 bytes",
      (p) => p.set("nonce", Buffer.alloc(1025)),
      "nonce is 1025 bytes, not 0 to 1024",
    ],
    ["a nonce as text", (p) => p.set("nonce", "abc"), "nonce is not bytes"],
    [
      "an empty public_key",
      (p) => p.set("public_key", Buffer.alloc(0)),
      "public_key is 0 bytes, not 1 to 1024",
    ],
    ["public_key false", (p) => p.set("public_key", false), "public_key is not bytes"],
  ])("%s", async (_name, editPayload, problem) => {
    const document = await pki.makeNitroDocument({ editPayload });
    expect(decodeNitroDocument(document)).toEqual({ ok: false, problem: `payload: ${problem}` });
    const verifier = createNitroVerifier({ root: pki.rootPem });
    expect(await verifier.verify({ evidence: document, certs: [] }, Date.now())).toEqual({
      ok: false,
      problem: `payload: ${problem}`,
    });
  });

  it("refuses a payload that is not a map", async () => {
    const document = await pki.makeNitroDocument({
      editPayload: (p) => {
        for (const key of [...p.keys()]) p.delete(key);
      },
    });
    expect(decodeNitroDocument(document)).toEqual({
      ok: false,
      problem: 'payload: missing field "module_id"',
    });
  });
});

describe("decodeNitroDocument accepts the specification's edges", () => {
  it.each<[string, Edit]>([
    [
      "1024 bytes of user_data, nonce and public_key",
      (p) => {
        p.set("user_data", Buffer.alloc(1024, 1));
        p.set("nonce", Buffer.alloc(1024, 2));
        p.set("public_key", Buffer.alloc(1024, 3));
      },
    ],
    [
      "empty user_data and nonce",
      (p) => {
        p.set("user_data", Buffer.alloc(0));
        p.set("nonce", Buffer.alloc(0));
      },
    ],
    [
      "absent optional fields (not even null)",
      (p) => {
        p.delete("user_data");
        p.delete("nonce");
        p.delete("public_key");
      },
    ],
    [
      "32- and 64-byte PCRs",
      (p) => {
        pcrsOf(p).set(5, Buffer.alloc(32));
        pcrsOf(p).set(6, Buffer.alloc(64));
      },
    ],
    [
      "all 32 PCRs",
      (p) => {
        for (let index = 0; index < 32; index++) pcrsOf(p).set(index, Buffer.alloc(48, index));
      },
    ],
    [
      "fields in another order",
      (p) => {
        const entries = [...p].reverse();
        p.clear();
        for (const [key, value] of entries) p.set(key, value);
      },
    ],
  ])("%s", async (_name, editPayload) => {
    const document = await pki.makeNitroDocument({ editPayload });
    const decoded = decodeNitroDocument(document);
    expect(decoded.ok ? "ok" : decoded.problem).toBe("ok");
  });

  it("reads an absent field as undefined and an empty one as empty", async () => {
    const absent = decodeNitroDocument(await pki.makeNitroDocument({}));
    const empty = decodeNitroDocument(
      await pki.makeNitroDocument({ userData: new Uint8Array(), nonce: new Uint8Array() }),
    );
    if (!absent.ok || !empty.ok) throw new Error("not decoded");
    expect(absent.document.userData).toBeUndefined();
    expect(absent.document.nonce).toBeUndefined();
    expect(empty.document.userData).toEqual(Buffer.alloc(0));
    expect(empty.document.nonce).toEqual(Buffer.alloc(0));
  });
});
