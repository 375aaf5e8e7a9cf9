import type { ConfigProblem } from "../../config/config-problem.js";
import { NOTHING_PROFILED, defineProfile, type AttestationProfile } from "./attestation-profile.js";
import {
  ClaimProblem,
  isClaimObject,
  readBoolean,
  readClaimPath,
  readHex,
  readNonce,
  readStatusText,
  readString,
  readSvn,
} from "./claim-values.js";

/** The `tee.*` attributes a generic mapping may name, in the order they are documented. */
export const GENERIC_PROFILE_KEYS = [
  "platform",
  "measurement",
  "debug",
  "tcbStatus",
  "svn",
  "nonce",
] as const;

type GenericKey = (typeof GENERIC_PROFILE_KEYS)[number];

// A platform name: lowercase letters, digits, `.`, `_`, `-` (after lowercasing the claim).
const PLATFORM = /^[a-z0-9][a-z0-9._-]{0,63}$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// Generous for any digest (SHA-512 is 64 bytes), small enough for a log line.
const MAX_MEASUREMENT_BYTES = 128;

function isGenericKey(key: string): key is GenericKey {
  return (GENERIC_PROFILE_KEYS as readonly string[]).includes(key);
}

const NOT_A_PATH = "must be a dotted claim path (a non-empty string such as tee.measurement)";

/** Why `path` is not a usable dotted claim path, or `undefined` when it is. */
function pathProblem(path: string): string | undefined {
  if (path === "") return NOT_A_PATH;
  if (path.length > 256) return "is longer than 256 characters";
  if (CONTROL_CHARACTER.test(path)) return "holds a control character";
  if (path.split(".").includes(""))
    return 'has an empty segment (check for "..", or a leading or trailing ".")';
  return undefined;
}

function readPlatform(value: unknown, claim: string): string | undefined {
  const text = readString(value, claim)?.toLowerCase();
  if (text === undefined) return undefined;
  if (!PLATFORM.test(text))
    throw new ClaimProblem(claim, "expected a platform name (1-64 of a-z 0-9 . _ -)");
  return text;
}

function readMeasurement(value: unknown, claim: string): string | undefined {
  const hex = readHex(value, claim);
  if (hex !== undefined && hex.length / 2 > MAX_MEASUREMENT_BYTES)
    throw new ClaimProblem(claim, `expected at most ${MAX_MEASUREMENT_BYTES} bytes`);
  return hex;
}

/**
 * Compiles the `generic` attestation profile from an issuer's claim mapping, for tokens whose
 * vendor has no built-in profile. The mapping names, for any of `platform`, `measurement`,
 * `debug`, `tcbStatus`, `svn` and `nonce`, the dotted path of the claim that holds it
 * (`tee.mrtd`; own properties only; a decimal segment indexes an array: `evidence.0.digest`).
 *
 * Values are read as strictly as the vendor profiles read theirs, and never converted from
 * another type: platform a string (lowercased; a-z 0-9 . _ -), measurement hex (lowercased,
 * at most 128 bytes; base64 is not guessed at), debug a JSON boolean, tcbStatus a status word,
 * svn a non-negative integer, nonce printable text. A claim that is absent leaves its
 * attribute absent; a claim of the wrong type or form makes the outcome `{ ok: false }`
 * naming the claim.
 *
 * Config problems (each with its path, e.g. `issuers[1].claims.platfrom: unknown key`):
 * a mapping that is not an object or maps nothing, unknown keys, and paths that are not
 * non-empty dotted strings. A profile is returned only when there is no problem.
 */
export function compileGenericProfile(
  mapping: unknown,
  path: string,
): { profile?: AttestationProfile; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  if (!isClaimObject(mapping)) {
    problems.push({
      path,
      message: `must be a mapping from tee attributes (${GENERIC_PROFILE_KEYS.join(", ")}) to claim paths`,
    });
    return { problems };
  }
  const entries: [GenericKey, string][] = [];
  for (const [key, claimPath] of Object.entries(mapping)) {
    if (!isGenericKey(key)) {
      problems.push({
        path: `${path}.${key}`,
        message: `unknown key (expected one of ${GENERIC_PROFILE_KEYS.join(", ")})`,
      });
      continue;
    }
    const problem = typeof claimPath === "string" ? pathProblem(claimPath) : NOT_A_PATH;
    if (problem !== undefined) problems.push({ path: `${path}.${key}`, message: problem });
    else if (typeof claimPath === "string") entries.push([key, claimPath]);
  }
  if (problems.length === 0 && entries.length === 0)
    problems.push({
      path,
      message: `maps no attribute: name the claim of at least one of ${GENERIC_PROFILE_KEYS.join(", ")}`,
    });
  if (problems.length > 0) return { problems };

  const paths: ReadonlyMap<GenericKey, string> = new Map(entries);
  const profile = defineProfile((payload) => {
    if (!isClaimObject(payload)) throw new ClaimProblem("payload", "expected an object");
    const read = <T>(
      key: GenericKey,
      reader: (value: unknown, claim: string) => T,
    ): T | undefined => {
      const claimPath = paths.get(key);
      return claimPath === undefined
        ? undefined
        : reader(readClaimPath(payload, claimPath), `${claimPath} (tee.${key})`);
    };
    return {
      ...NOTHING_PROFILED,
      platform: read("platform", readPlatform),
      measurement: read("measurement", readMeasurement),
      debug: read("debug", readBoolean),
      tcbStatus: read("tcbStatus", readStatusText),
      svn: read("svn", readSvn),
      nonce: read("nonce", readNonce),
    };
  });
  return { profile, problems };
}
