import { LRUCache } from "lru-cache";
import type { AssertionKeys } from "./assertion-keys.js";
import { payloadOf, statedFacts, type AssertionFacts } from "./upstream-assertion.js";

/** Callers and routes whose last assertion is remembered (about 2 KiB each). */
const MAX_REMEMBERED = 4096;

interface Signed {
  readonly jwt: string;
  readonly signedAt: number;
}

/**
 * Signs `x-verigate-assertion`s, and hands the same one out again while it states
 * exactly what a new one would: the same key, route, revision, identity, device and
 * TEE facts, and the same posture and attestation statements (their issue times,
 * which is what `age` is measured from). An ES256 signature is about a third of a
 * forwarded request's cost; one caller's requests to one route share it for
 * `reuseForMs`. Its `jti` is the id of the request it was signed for, and `iat`,
 * `exp` and the ages are as of that request. `reuseForMs` 0 signs every request.
 */
export class AssertionSigner {
  readonly #keys: AssertionKeys;
  readonly #remembered = new LRUCache<string, Signed>({ max: MAX_REMEMBERED });

  constructor(keys: AssertionKeys) {
    this.#keys = keys;
  }

  /** The assertion for one forwarded request; rotates the keys first if their period has passed. `now`: ms since the epoch. */
  sign(facts: AssertionFacts, now: number, reuseForMs: number): string {
    const keys = this.#keys;
    keys.maybeRotate(now);
    const stated = statedFacts(facts);
    if (reuseForMs <= 0) return keys.signJwt(payloadOf(stated, facts.requestId, now));
    const deviceIssued = stated.deviceAge === undefined ? "" : now - stated.deviceAge;
    const teeIssued = stated.teeAge === undefined ? "" : now - stated.teeAge;
    const { body } = stated;
    // Everything the body says (the identity's text is worked out once per connection).
    const key = [
      keys.kid,
      body.iss,
      body.aud,
      body.rev,
      stated.identityText,
      deviceIssued,
      teeIssued,
      JSON.stringify(body.device),
      JSON.stringify(body.tee),
    ].join("\n");
    const remembered = this.#remembered.get(key);
    // A clock stepped back is no reason to hand out an assertion from the future.
    if (
      remembered !== undefined &&
      now >= remembered.signedAt &&
      now - remembered.signedAt < reuseForMs
    )
      return remembered.jwt;
    const jwt = keys.signJwt(payloadOf(stated, facts.requestId, now));
    this.#remembered.set(key, { jwt, signedAt: now });
    return jwt;
  }
}
