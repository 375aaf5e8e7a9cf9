import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import type { Claims } from "../../../src/claims/claims.js";
import { createAssertionKeys } from "../../../src/proxy/assertion-keys.js";
import { AssertionSigner } from "../../../src/proxy/assertion-reuse.js";
import type { AssertionFacts } from "../../../src/proxy/upstream-assertion.js";

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0, 0);
const REUSE = 10_000;

/** alice's claims as a request at `now` sees them: posture issued at T0 - 12 s, attestation at T0 - 4 s. */
function claimsAt(now: number, overrides: Partial<Claims> = {}): Claims {
  return {
    identity: { source: "certificate", subject: "CN=alice", commonName: "alice", groups: [] },
    device: { id: "dev-42", compliant: true, issuer: "mdm", age: now - (T0 - 12_000) },
    tee: {
      platform: "sev-snp",
      measurement: "ab".repeat(48),
      debug: false,
      issuer: "amd",
      age: now - (T0 - 4_000),
      boundToClientCert: false,
    },
    request: { method: "GET", path: "/", host: "app.test", sourceIp: "127.0.0.1", time: now },
    ...overrides,
  };
}

function factsAt(now: number, requestId: string, overrides: Partial<AssertionFacts> = {}) {
  return { route: "payroll", requestId, revision: "rev-1", claims: claimsAt(now), ...overrides };
}

describe("AssertionSigner", () => {
  it("hands one caller's requests to one route the same assertion, named for the first request", async () => {
    const keys = createAssertionKeys();
    const signer = new AssertionSigner(keys);
    const first = signer.sign(factsAt(T0, "rid-1"), T0, REUSE);
    const later = signer.sign(factsAt(T0 + 9_999, "rid-2"), T0 + 9_999, REUSE);
    expect(later).toBe(first);
    const { payload } = await jwtVerify(first, createLocalJWKSet({ keys: [...keys.jwks().keys] }), {
      audience: "payroll",
      issuer: "verigate",
      currentDate: new Date(T0 + 9_999),
    });
    expect(payload.jti).toBe("rid-1");
    expect(payload.iat).toBe(T0 / 1000);
    // The ages are as of the assertion's iat.
    expect(payload.device).toMatchObject({ id: "dev-42", age: 12_000 });
    expect(payload.tee).toMatchObject({ platform: "sev-snp", age: 4_000 });
  });

  it("signs a new one when reuseFor has passed", () => {
    const signer = new AssertionSigner(createAssertionKeys());
    const first = signer.sign(factsAt(T0, "rid-1"), T0, REUSE);
    const next = signer.sign(factsAt(T0 + REUSE, "rid-2"), T0 + REUSE, REUSE);
    expect(next).not.toBe(first);
    expect(decodeJwt(next)).toMatchObject({ jti: "rid-2", iat: (T0 + REUSE) / 1000 });
  });

  it("signs a new one when anything it states differs", () => {
    const signer = new AssertionSigner(createAssertionKeys());
    const first = signer.sign(factsAt(T0, "rid-1"), T0, REUSE);
    const base = claimsAt(T0 + 1);
    const variants: AssertionFacts[] = [
      factsAt(T0 + 1, "rid-route", { route: "other" }),
      factsAt(T0 + 1, "rid-rev", { revision: "rev-2" }),
      factsAt(T0 + 1, "rid-iss", { issuer: "gw.example" }),
      factsAt(T0 + 1, "rid-who", {
        claims: { ...base, identity: { ...base.identity, commonName: "bob" } },
      }),
      // A newer posture statement: the same facts, issued later.
      factsAt(T0 + 1, "rid-posture", { claims: { ...base, device: { ...base.device, age: 0 } } }),
      factsAt(T0 + 1, "rid-tee", { claims: { ...base, tee: { ...base.tee, debug: true } } }),
      factsAt(T0 + 1, "rid-no-device", {
        claims: { identity: base.identity, request: base.request },
      }),
    ];
    const jtis = variants.map((facts) => decodeJwt(signer.sign(facts, T0 + 1, REUSE)).jti);
    expect(jtis).toEqual(variants.map((facts) => facts.requestId));
    // The first one is still remembered beside them.
    expect(signer.sign(factsAt(T0 + 2, "rid-again"), T0 + 2, REUSE)).toBe(first);
  });

  it("signs with the new key after a rotation", () => {
    const keys = createAssertionKeys();
    const signer = new AssertionSigner(keys);
    const first = signer.sign(factsAt(T0, "rid-1"), T0, REUSE);
    keys.rotate();
    const next = signer.sign(factsAt(T0 + 1, "rid-2"), T0 + 1, REUSE);
    expect(decodeProtectedHeader(next).kid).toBe(keys.kid);
    expect(decodeProtectedHeader(first).kid).not.toBe(keys.kid);
  });

  it("signs every request with reuseFor 0, and after the clock stepped back", () => {
    const signer = new AssertionSigner(createAssertionKeys());
    const ids = ["rid-1", "rid-2", "rid-3"].map(
      (id) => decodeJwt(signer.sign(factsAt(T0, id), T0, 0)).jti,
    );
    expect(ids).toEqual(["rid-1", "rid-2", "rid-3"]);
    signer.sign(factsAt(T0, "rid-4"), T0, REUSE);
    expect(decodeJwt(signer.sign(factsAt(T0 - 1, "rid-5"), T0 - 1, REUSE)).jti).toBe("rid-5");
  });
});
