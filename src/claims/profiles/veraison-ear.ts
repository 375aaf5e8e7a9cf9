import {
  NOTHING_PROFILED,
  defineProfile,
  type AttestationProfile,
  type ProfiledTee,
} from "./attestation-profile.js";
import {
  ClaimProblem,
  ClaimReader,
  quoteValue,
  resolveNonce,
  type NonceCandidate,
} from "./claim-values.js";

/**
 * AR4SI trust tiers from best to worst, as verigate ranks them. `none` (the verifier made no
 * claim) ranks below `warning`: an appraisal nobody vouched for must not hide behind a
 * sibling's affirmation. (AR4SI's numeric codes put `none` at 0, below `affirming`; that
 * order suits combining trustworthiness claims within one appraisal, not summarizing a
 * device for a relying party.)
 */
export const EAR_STATUS_ORDER = ["affirming", "warning", "none", "contraindicated"] as const;

/** An EAR appraisal status (`ear.status` / `ear_status`). */
export type EarStatus = (typeof EAR_STATUS_ORDER)[number];

type TeeFacts = Omit<ProfiledTee, "nonce" | "tcbStatus">;

function isEarStatus(value: string): value is EarStatus {
  return (EAR_STATUS_ORDER as readonly string[]).includes(value);
}

function readStatus(claims: ClaimReader, name: string): EarStatus | undefined {
  const status = claims.string(name);
  if (status === undefined) return undefined;
  if (!isEarStatus(status))
    throw new ClaimProblem(claims.claim(name), `unknown status ${quoteValue(status)}`);
  return status;
}

function findWorstStatus(statuses: readonly EarStatus[]): EarStatus | undefined {
  let worst: EarStatus | undefined;
  for (const status of statuses)
    if (worst === undefined || EAR_STATUS_ORDER.indexOf(status) > EAR_STATUS_ORDER.indexOf(worst))
      worst = status;
  return worst;
}

/**
 * Trustee writes SEV-SNP policy bits as strings: `"true"`/`"false"` (snp verifier) or
 * `"1"`/`"0"` (az-snp-vtpm verifier). Exactly those forms, or a JSON boolean, are read.
 */
function readTrusteeFlag(claims: ClaimReader, name: string): boolean | undefined {
  const value = claims.value(name);
  if (value === undefined || typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new ClaimProblem(
    claims.claim(name),
    'expected a boolean or one of "true", "false", "1", "0"',
  );
}

function readSnp(claims: ClaimReader): TeeFacts {
  return {
    platform: "sev-snp",
    measurement: claims.hexOrBase64AsHex("measurement", 48),
    debug: readTrusteeFlag(claims, "policy_debug_allowed"),
    svn: undefined,
  };
}

function readTdx(claims: ClaimReader): TeeFacts {
  return {
    platform: "tdx",
    measurement: claims.object("quote")?.object("body")?.hex("mr_td", [48]),
    debug: claims.object("td_attributes")?.boolean("debug"),
    svn: undefined,
  };
}

function readCca(claims: ClaimReader): TeeFacts {
  return {
    platform: "cca",
    // The realm initial measurement (RIM), base64, as long as `cca-realm-hash-algo-id` makes it.
    measurement: claims.object("realm")?.base64AsHex("cca-realm-initial-measurement", [32, 48, 64]),
    debug: undefined,
    svn: undefined,
  };
}

/** Trustee's TEE names (kbs-types `Tee`, lowercase) whose claims verigate reads. */
const TRUSTEE_TEES: Readonly<Record<string, (claims: ClaimReader) => TeeFacts>> = Object.freeze({
  snp: readSnp,
  azsnpvtpm: readSnp,
  tdx: readTdx,
  aztdxvtpm: readTdx,
  cca: readCca,
});

interface FoundTee {
  readonly where: string;
  readonly facts: TeeFacts;
}

/** The TEE evidence one appraisal annotates, in Trustee's older or newer layout. */
function findTees(appraisal: ClaimReader): FoundTee[] {
  const found: FoundTee[] = [];
  const annotated = appraisal.object("ear.veraison.annotated-evidence");
  if (annotated !== undefined)
    for (const [name, read] of Object.entries(TRUSTEE_TEES)) {
      const claims = annotated.object(name);
      if (claims !== undefined) found.push({ where: annotated.claim(name), facts: read(claims) });
    }
  const attester = appraisal.object("ear_attester_claims");
  const tee = attester?.string("tee");
  if (attester !== undefined && tee !== undefined && Object.hasOwn(TRUSTEE_TEES, tee)) {
    const claims = attester.object("claims");
    const read = TRUSTEE_TEES[tee];
    if (claims === undefined || read === undefined)
      throw new ClaimProblem(attester.claim("claims"), `missing for tee ${quoteValue(tee)}`);
    found.push({ where: attester.claim("claims"), facts: read(claims) });
  }
  return found;
}

/**
 * Profile `veraison-ear`: maps a verified EAT Attestation Result (EAR, draft-ietf-rats-ear),
 * as issued by Veraison or by the CoCo Trustee attestation service, onto `tee.*`. Both claim
 * spellings are read: the earlier `ear.status` / `ear.veraison.annotated-evidence` and the
 * current `ear_status` / `ear_attester_claims`.
 *
 * - `submods` must be a non-empty object of appraisals, each with a status. `eat_profile` is
 *   not checked (Veraison and Trustee each name their own); the issuer's configuration
 *   decides which tokens reach this profile.
 * - tcbStatus: the worst status among every appraisal's `ear.status` / `ear_status` and the
 *   token's own optional top-level `ear_status`, ranked (best to worst) `affirming`,
 *   `warning`, `none`, `contraindicated`. Any other status is a problem.
 * - platform, measurement, debug: from the TEE evidence Trustee annotates, under
 *   `submods.<name>.ear.veraison.annotated-evidence.<tee>` or, in the current layout,
 *   `submods.<name>.ear_attester_claims` with `tee` naming the TEE and `claims` holding it:
 *
 *   | tee | platform | measurement (to hex) | debug |
 *   | --- | --- | --- | --- |
 *   | `snp`, `azsnpvtpm` | `sev-snp` | `measurement` (48 bytes, hex or base64) | `policy_debug_allowed` (boolean, or Trustee's `"true"`/`"false"`/`"1"`/`"0"`) |
 *   | `tdx`, `aztdxvtpm` | `tdx` | `quote.body.mr_td` (48 bytes, hex) | `td_attributes.debug` |
 *   | `cca` | `cca` | `realm.cca-realm-initial-measurement` (32/48/64 bytes, base64) | none: a realm token states no debug |
 *
 *   Other TEEs (`sgx`, `se`, `csv`, `sample`, ...) and Veraison's own evidence layouts leave
 *   these absent. Evidence of more than one TEE in one token is a problem.
 * - svn: none (`reported_tcb_*`, `tcb_svn` stay in `tee.claims.*`).
 * - nonce: `eat_nonce` (a string, or an array holding exactly one), at the top level and in
 *   any appraisal; every one present must agree. Trustee's `runtime_data_claims.nonce` is
 *   the KBS challenge and is not read.
 */
export const veraisonEarProfile: AttestationProfile = defineProfile((payload) => {
  const claims = ClaimReader.of(payload, "payload");
  const submods = claims.object("submods");
  const names = submods?.names() ?? [];
  if (submods === undefined || names.length === 0)
    throw new ClaimProblem("submods", "missing or empty (an EAR carries at least one appraisal)");
  const statuses: EarStatus[] = [];
  const topStatus = readStatus(claims, "ear_status");
  if (topStatus !== undefined) statuses.push(topStatus);
  const nonces: NonceCandidate[] = [{ claim: "eat_nonce", value: claims.eatNonce("eat_nonce") }];
  const tees: FoundTee[] = [];
  for (const name of names) {
    const appraisal = submods.object(name);
    if (appraisal === undefined) throw new ClaimProblem(submods.claim(name), "not an appraisal");
    const found = [readStatus(appraisal, "ear.status"), readStatus(appraisal, "ear_status")];
    const present = found.filter((s): s is EarStatus => s !== undefined);
    if (present.length === 0)
      throw new ClaimProblem(submods.claim(name), "has no ear.status or ear_status");
    statuses.push(...present);
    nonces.push({ claim: appraisal.claim("eat_nonce"), value: appraisal.eatNonce("eat_nonce") });
    tees.push(...findTees(appraisal));
  }
  if (tees.length > 1)
    throw new ClaimProblem(
      tees.map((t) => t.where).join(", "),
      "evidence of more than one TEE: which one the token is about is ambiguous",
    );
  return {
    ...NOTHING_PROFILED,
    ...tees[0]?.facts,
    tcbStatus: findWorstStatus(statuses),
    nonce: resolveNonce(nonces),
  };
});
