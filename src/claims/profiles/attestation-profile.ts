/**
 * What an attestation profile is: a pure function from the payload of a token verigate has
 * ALREADY verified (signature, `iss`, `aud`, `exp` are checked elsewhere) to verigate's
 * `tee.*` vocabulary. A profile reads only; it never fetches, never throws, never guesses.
 */
import type { JWTPayload } from "jose";
import { ClaimProblem } from "./claim-values.js";

/** The `tee.*` attributes a profile can read from a token. `undefined`: the token does not say. */
export interface ProfiledTee {
  /** `sev-snp`, `tdx`, `sgx`, `cca`, `nitro`, ... always lowercase. */
  readonly platform: string | undefined;
  /** Lowercase hex, whatever the vendor's encoding (base64 and `sha256:` forms are converted). */
  readonly measurement: string | undefined;
  /** `undefined` when the token does not say: never a guessed `false`. */
  readonly debug: boolean | undefined;
  /** The TCB or appraisal status as the vendor words it (each profile documents its source). */
  readonly tcbStatus: string | undefined;
  readonly svn: number | undefined;
  /** The nonce the token echoes, as text. */
  readonly nonce: string | undefined;
}

/** A profile's verdict: the TEE facts, or why the token's claims cannot be used. */
export type ProfileOutcome =
  | { readonly ok: true; readonly tee: ProfiledTee }
  | { readonly ok: false; readonly problem: string };

/** Maps an already verified token payload onto `tee.*`. Never throws. */
export type AttestationProfile = (payload: Readonly<JWTPayload>) => ProfileOutcome;

/**
 * Wraps a reader into an {@link AttestationProfile}. Fails closed: a {@link ClaimProblem}
 * becomes `{ ok: false }` with its message, and any other exception (a bug, or a payload
 * nobody anticipated) becomes `{ ok: false }` too, never an escaping throw and never a
 * partial result.
 */
export function defineProfile(
  read: (payload: Readonly<JWTPayload>) => ProfiledTee,
): AttestationProfile {
  return (payload) => {
    try {
      return { ok: true, tee: Object.freeze({ ...read(payload) }) };
    } catch (e: unknown) {
      if (e instanceof ClaimProblem) return { ok: false, problem: e.message };
      return { ok: false, problem: "the token's claims could not be read" };
    }
  };
}

/** A {@link ProfiledTee} with every attribute absent; profiles spread their findings over it. */
export const NOTHING_PROFILED: ProfiledTee = Object.freeze({
  platform: undefined,
  measurement: undefined,
  debug: undefined,
  tcbStatus: undefined,
  svn: undefined,
  nonce: undefined,
});
