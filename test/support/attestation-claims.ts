/**
 * Realistic attestation-token payloads, one builder per vendor profile, for tests that need a
 * token a profile accepts (sign it, add `iss`/`aud`/`exp`/`iat`, present it).
 *
 * Sources, read in place from the shared vectors (never copied into the repo):
 * - MAA: `jwt/maa/maa-sevsnpvm-claims.sample.json`, `maa-tdxvm-claims.sample.json` (the claim
 *   sets Microsoft publishes).
 * - ITA: there is no usable ITA claim vector (the ITA tokens in `jwt/ita/` are synthetic
 *   "John Doe" payloads for failure tests), so the TDX claims come from the MAA TDX vector
 *   (ITA and MAA share the `tdx_*` names of the TDX EAT profile) and the ITA-specific claims
 *   follow Intel's published token samples.
 * - GCP: no vector exists; the payload follows Google's Confidential Space token-claims
 *   reference, with placeholder project values.
 * - EAR: `jwt/ear/trustee-cca-realm-ear-expired.jwt` (a real CoCo Trustee EAR), its payload
 *   base64url-decoded; the SEV-SNP and TDX variants swap in Trustee's claim layouts for those
 *   TEEs, with the measurements of the MAA vectors.
 *
 * Every builder returns a fresh object without `iss`, `aud`, `exp`, `iat`, `nbf` and `jti`.
 */
import { readFileSync } from "node:fs";
import type { JWTPayload } from "jose";

const VECTORS = new URL("../../../shared/vectors/", import.meta.url);

/** The URL of a file under the shared vectors directory (`jwt/maa/...`). */
export function vectorUrl(relative: string): URL {
  return new URL(relative, VECTORS);
}

/** A JSON vector, parsed afresh on every call (callers may mutate it). */
export function readVectorJson(relative: string): Record<string, unknown> {
  return JSON.parse(readFileSync(vectorUrl(relative), "utf8")) as Record<string, unknown>;
}

/** The payload of a compact JWT vector, base64url-decoded (no signature check). */
export function readVectorJwtPayload(relative: string): Record<string, unknown> {
  const [, payload] = readFileSync(vectorUrl(relative), "utf8").trim().split(".");
  if (payload === undefined) throw new Error(`${relative} is not a compact JWT`);
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** What every builder can change in its vendor's own encoding and places. */
export interface AttestationClaimsOverrides {
  /** Lowercase hex; written as the vendor writes measurements (hex, `sha256:` or base64). */
  readonly measurement?: string;
  /** Written into every debug claim the vendor's token carries for the TEE. */
  readonly debug?: boolean;
  /** Written where the vendor echoes a nonce. */
  readonly nonce?: string;
  /** Top-level claims merged last; a value of `undefined` removes the claim. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

const ISSUANCE_CLAIMS = ["iss", "aud", "exp", "iat", "nbf", "jti"];

function finish(
  payload: Record<string, unknown>,
  overrides: AttestationClaimsOverrides,
): JWTPayload {
  for (const claim of ISSUANCE_CLAIMS) delete payload[claim];
  for (const [claim, value] of Object.entries(overrides.claims ?? {})) {
    if (value === undefined) delete payload[claim];
    else payload[claim] = value;
  }
  return payload;
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("vector layout changed: expected an object");
  return value as Record<string, unknown>;
}

function hexToBase64(hex: string): string {
  if (!/^([0-9a-f]{2})+$/.test(hex)) throw new Error("measurement override must be lowercase hex");
  return Buffer.from(hex, "hex").toString("base64");
}

/** TD attributes as the quote writes them (8 bytes, little-endian hex); bit 0 is DEBUG. */
function tdAttributes(debug: boolean): string {
  return debug ? "0100000000000000" : "0000000000000000";
}

/** The caller's nonce where the Azure guest attestation library echoes it. */
function maaRuntimeNonce(payload: Record<string, unknown>, nonce: string): void {
  const runtime = object(payload["x-ms-runtime"] ?? {});
  payload["x-ms-runtime"] = { ...runtime, "client-payload": { nonce } };
}

/**
 * An MAA `sevsnpvm` token payload (the published sample): platform `sev-snp`, measurement
 * `04a170f3...7e9d`, debug false, guest SVN 1, `x-ms-compliance-status` `azure-compliant-cvm`.
 * The nonce goes to `x-ms-runtime.client-payload.nonce`.
 */
export function maaSevSnpClaims(overrides: AttestationClaimsOverrides = {}): JWTPayload {
  const payload = readVectorJson("jwt/maa/maa-sevsnpvm-claims.sample.json");
  if (overrides.measurement !== undefined)
    payload["x-ms-sevsnpvm-launchmeasurement"] = overrides.measurement;
  if (overrides.debug !== undefined) payload["x-ms-sevsnpvm-is-debuggable"] = overrides.debug;
  if (overrides.nonce !== undefined) maaRuntimeNonce(payload, overrides.nonce);
  return finish(payload, overrides);
}

/**
 * An MAA `tdxvm` token payload (the published sample): platform `tdx`, measurement
 * (`tdx_mrtd`) `5be56d41...953f`, debug false, `attester_tcb_status` `UpToDate`.
 * `debug` sets `tdx_td_attributes_debug`, `tdx_td_attributes` and `dbgstat`; the nonce goes to
 * `x-ms-runtime.client-payload.nonce`.
 */
export function maaTdxClaims(overrides: AttestationClaimsOverrides = {}): JWTPayload {
  const payload = readVectorJson("jwt/maa/maa-tdxvm-claims.sample.json");
  if (overrides.measurement !== undefined) payload["tdx_mrtd"] = overrides.measurement;
  if (overrides.debug !== undefined) {
    payload["tdx_td_attributes_debug"] = overrides.debug;
    payload["tdx_td_attributes"] = tdAttributes(overrides.debug);
    payload["dbgstat"] = overrides.debug ? "enabled" : "disabled";
  }
  if (overrides.nonce !== undefined) maaRuntimeNonce(payload, overrides.nonce);
  return finish(payload, overrides);
}

/** ITA layouts: v1 carries the TDX claims at the top level, v2 nests them under `tdx`. */
export interface ItaClaimsOverrides extends AttestationClaimsOverrides {
  /** Token layout; default 2 (the current one). */
  readonly version?: 1 | 2;
}

/**
 * An Intel Trust Authority TDX token payload: the `tdx_*` claims of the MAA TDX sample
 * (measurement `5be56d41...953f`, debug false) with ITA's `attester_type` `TDX`,
 * `attester_tcb_status` `UpToDate`, `tdx_is_debuggable` and `dbgstat`; v2 (default) nests them
 * under `tdx`. `debug` sets every TDX debug claim; the nonce becomes
 * `verifier_nonce: { val, iat, signature }` at the top level.
 */
export function itaTdxClaims(overrides: ItaClaimsOverrides = {}): JWTPayload {
  const maa = readVectorJson("jwt/maa/maa-tdxvm-claims.sample.json");
  const debug = overrides.debug ?? false;
  const tdx: Record<string, unknown> = Object.fromEntries(
    Object.entries(maa).filter(([claim]) => claim.startsWith("tdx_")),
  );
  Object.assign(tdx, {
    attester_advisory_ids: [],
    attester_tcb_date: "2023-08-09T00:00:00Z",
    attester_tcb_status: "UpToDate",
    attester_type: "TDX",
    dbgstat: debug ? "enabled" : "disabled",
    tdx_is_debuggable: debug,
    tdx_td_attributes_debug: debug,
    tdx_td_attributes: tdAttributes(debug),
  });
  if (overrides.measurement !== undefined) tdx["tdx_mrtd"] = overrides.measurement;
  const version = overrides.version ?? 2;
  const common = {
    eat_profile: "https://portal.trustauthority.intel.com/eat_profile.html",
    intuse: "generic",
    verifier_instance_ids: ["9f07abc5-9b90-47a1-ac6d-4f5fa6732421"],
  };
  const payload: Record<string, unknown> =
    version === 2 ? { ...common, tdx, ver: "2.0.0" } : { ...common, ...tdx, ver: "1.0.0" };
  if (overrides.nonce !== undefined)
    payload["verifier_nonce"] = {
      val: overrides.nonce,
      iat: Buffer.from("2024-04-30 02:16:12 +0000 UTC").toString("base64"),
      signature: Buffer.alloc(384, 7).toString("base64"),
    };
  return finish(payload, overrides);
}

/**
 * A Confidential Space token payload (AMD SEV-SNP, production image): platform `sev-snp`,
 * measurement = the container image digest `submods.container.image_digest`
 * (`sha256:` + 64 hex), debug false (`dbgstat` `disabled-since-boot`, `enabled` when debug).
 * The nonce becomes `eat_nonce: [nonce]`.
 */
export function gcpConfidentialSpaceClaims(overrides: AttestationClaimsOverrides = {}): JWTPayload {
  const digest =
    overrides.measurement ?? "6e5b1c8a3d9f0e2b4c7a1d8e5f3b9c0a2e4d6f8b1a3c5e7d9f0b2d4c6e8a0b1c";
  const payload: Record<string, unknown> = {
    sub: "https://www.googleapis.com/compute/v1/projects/example-project/zones/us-central1-a/instances/payroll-workload",
    eat_profile:
      "https://cloud.google.com/confidential-computing/confidential-space/docs/reference/token-claims",
    secboot: true,
    oemid: 11129,
    hwmodel: "GCP_AMD_SEV_SNP",
    swname: "CONFIDENTIAL_SPACE",
    swversion: ["250301"],
    dbgstat: overrides.debug === true ? "enabled" : "disabled-since-boot",
    submods: {
      confidential_space: {
        support_attributes: overrides.debug === true ? [] : ["LATEST", "STABLE", "USABLE"],
      },
      container: {
        image_reference: "us-docker.pkg.dev/example-project/workloads/payroll:v3",
        image_digest: `sha256:${digest}`,
        image_id: "sha256:4d1a2b7c9e0f3a5b8c1d4e7f0a2b5c8d1e4f7a0b3c6d9e2f5a8b1c4d7e0f3a6b",
        restart_policy: "Never",
        args: ["/payroll", "--listen=:8443"],
        env: { HOSTNAME: "payroll-workload" },
      },
      gce: {
        zone: "us-central1-a",
        project_id: "example-project",
        project_number: "123456789012",
        instance_name: "payroll-workload",
        instance_id: "7333251546816446069",
      },
    },
    google_service_accounts: ["payroll-workload@example-project.iam.gserviceaccount.com"],
  };
  if (overrides.nonce !== undefined) payload["eat_nonce"] = [overrides.nonce];
  return finish(payload, overrides);
}

/** An EAR appraisal status. */
export type EarStatusName = "affirming" | "warning" | "none" | "contraindicated";

/** EAR variants: which TEE Trustee's `cpu0` appraisal annotates, and its status. */
export interface EarClaimsOverrides extends AttestationClaimsOverrides {
  /** Default `cca` (the vector as issued). A CCA realm token states no debug. */
  readonly tee?: "cca" | "snp" | "tdx";
  /** `submods.cpu0.ear.status`; default `affirming` (as issued). */
  readonly status?: EarStatusName;
}

const MAA_SNP_MEASUREMENT =
  "04a170f39a3f702472ed0c7ecbda9babfc530e3caac475fdd607ff499177d14c278c5a15ad07ceacd5230ae63d507e9d";
const MAA_TDX_MRTD =
  "5be56d418d33661a6c21da77c9503a07e430b35eb92a0bd042a6b3c4e79b3c82bb1c594e770d0d129a0724669f1e953f";

function trusteeSnp(measurement: string, debug: boolean): Record<string, unknown> {
  return {
    measurement: hexToBase64(measurement),
    platform_smt_enabled: "true",
    platform_tsme_enabled: "false",
    policy_abi_major: "0",
    policy_abi_minor: "31",
    policy_debug_allowed: debug ? "true" : "false",
    policy_migrate_ma: "false",
    policy_single_socket: "false",
    policy_smt_allowed: "true",
    reported_tcb_bootloader: "3",
    reported_tcb_microcode: "209",
    reported_tcb_snp: "20",
    reported_tcb_tee: "0",
  };
}

function trusteeTdx(mrTd: string, debug: boolean): Record<string, unknown> {
  const zeros = "0".repeat(96);
  return {
    ccel: {},
    quote: {
      header: {
        version: "0400",
        att_key_type: "0200",
        tee_type: "81000000",
        reserved: "00000000",
        vendor_id: "939a7233f79c4ca9940a0db3957f0607",
        user_data: "d099bfec0a477aa85a605dceabf2b10800000000",
      },
      body: {
        mr_config_id: zeros,
        mr_owner: zeros,
        mr_owner_config: zeros,
        mr_td: mrTd,
        mrsigner_seam: zeros,
        report_data: "0".repeat(128),
        seam_attributes: "0000000000000000",
        td_attributes: tdAttributes(debug),
        mr_seam:
          "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656",
        tcb_svn: "03000600000000000000000000000000",
        xfam: "e718060000000000",
        rtmr_0: zeros,
        rtmr_1: zeros,
        rtmr_2: zeros,
        rtmr_3: zeros,
      },
    },
    td_attributes: {
      debug,
      key_locker: false,
      perfmon: false,
      protection_keys: false,
      septve_disable: true,
    },
  };
}

/**
 * A CoCo Trustee EAR payload, from the real Trustee token in the vectors: one appraisal
 * `cpu0` (status `affirming`) annotating a CCA realm (measurement = the realm initial
 * measurement `deafd540...db143b`, written base64) or, with `tee`, a SEV-SNP guest
 * (measurement of the MAA SNP vector, written base64; debug via `policy_debug_allowed`) or a
 * TDX guest (`quote.body.mr_td` of the MAA TDX vector; debug via `td_attributes.debug`).
 * The nonce becomes `eat_nonce`.
 */
export function earClaims(overrides: EarClaimsOverrides = {}): JWTPayload {
  const payload = readVectorJwtPayload("jwt/ear/trustee-cca-realm-ear-expired.jwt");
  const cpu0 = object(object(payload["submods"])["cpu0"]);
  const evidence = object(cpu0["ear.veraison.annotated-evidence"]);
  const tee = overrides.tee ?? "cca";
  if (tee === "cca") {
    if (overrides.debug !== undefined)
      throw new Error("a CCA realm token states no debug: choose tee snp or tdx");
    if (overrides.measurement !== undefined)
      object(object(evidence["cca"])["realm"])["cca-realm-initial-measurement"] = hexToBase64(
        overrides.measurement,
      );
  } else {
    delete evidence["cca"];
    const debug = overrides.debug ?? false;
    evidence[tee] =
      tee === "snp"
        ? trusteeSnp(overrides.measurement ?? MAA_SNP_MEASUREMENT, debug)
        : trusteeTdx(overrides.measurement ?? MAA_TDX_MRTD, debug);
  }
  if (overrides.status !== undefined) cpu0["ear.status"] = overrides.status;
  if (overrides.nonce !== undefined) payload["eat_nonce"] = overrides.nonce;
  return finish(payload, overrides);
}
