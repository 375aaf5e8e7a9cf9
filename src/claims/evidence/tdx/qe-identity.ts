/**
 * The identity of Intel's TD Quoting Enclave (PCS "Enclave Identity" version 2, `id`
 * "TD_QE"), and the check of a quote's QE report against it. Without collateral the
 * enclave is still pinned: a QE report must come from Intel's TD QE (its MRSIGNER,
 * ISVPRODID 2, and attributes without DEBUG), else a debug or foreign enclave holding a
 * PCK-signed report could vouch for any attestation key. Only its ISVSVN level, which
 * needs the signed identity, is then unknown.
 */
import {
  CollateralFormatError,
  asObject,
  readDate,
  readHex,
  readString,
  readUint,
} from "./json-fields.js";
import type { QeReport } from "./qe-report.js";
import { type IdentityTcbLevel, readIdentityLevels } from "./tcb-info.js";

/** What a QE report must match; `tcbLevels` is empty for the built-in pin. */
export interface QeIdentity {
  readonly issueDate: number;
  readonly nextUpdate: number;
  readonly miscSelect: number;
  readonly miscSelectMask: number;
  readonly attributes: Buffer;
  readonly attributesMask: Buffer;
  readonly mrSigner: Buffer;
  readonly isvProdId: number;
  readonly tcbLevels: readonly IdentityTcbLevel[];
}

/**
 * Intel's TD QE as every TD_QE identity Intel has published describes it (the values of
 * the identities in go-tdx-guest's and dcap-qvl's collateral, 2023 to 2026).
 */
export const INTEL_TD_QE: QeIdentity = {
  issueDate: 0,
  nextUpdate: Number.POSITIVE_INFINITY,
  miscSelect: 0,
  miscSelectMask: 0xffffffff,
  attributes: Buffer.from("11000000000000000000000000000000", "hex"),
  attributesMask: Buffer.from("FBFFFFFFFFFFFFFF0000000000000000", "hex"),
  mrSigner: Buffer.from("DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5", "hex"),
  isvProdId: 2,
  tcbLevels: [],
};

const PATH = "enclaveIdentity";

/** Reads a signed `enclaveIdentity` document (TD_QE, version 2). Throws `CollateralFormatError`. */
export function parseQeIdentity(document: unknown): QeIdentity {
  const identity = asObject(document, PATH);
  const id = readString(identity, "id", PATH);
  if (id !== "TD_QE") throw new CollateralFormatError(`${PATH}.id: "${id}" is not "TD_QE"`);
  const version = readUint(identity, "version", PATH, 0xffff);
  if (version !== 2) throw new CollateralFormatError(`${PATH}.version: ${version} is not 2`);
  readUint(identity, "tcbEvaluationDataNumber", PATH, 0xffffffff);
  return {
    issueDate: readDate(identity, "issueDate", PATH),
    nextUpdate: readDate(identity, "nextUpdate", PATH),
    // Hex of the little-endian MISCSELECT as a big-endian 32-bit number.
    miscSelect: readHex(identity, "miscselect", PATH, 4).readUInt32BE(0),
    miscSelectMask: readHex(identity, "miscselectMask", PATH, 4).readUInt32BE(0),
    attributes: readHex(identity, "attributes", PATH, 16),
    attributesMask: readHex(identity, "attributesMask", PATH, 16),
    mrSigner: readHex(identity, "mrsigner", PATH, 32),
    isvProdId: readUint(identity, "isvprodid", PATH, 0xffff),
    tcbLevels: readIdentityLevels(identity, PATH),
  };
}

/** The QE's standing: the identity level its ISVSVN reaches (none: `NoMatchingTcbLevel`). */
export interface QeStanding {
  readonly status: IdentityTcbLevel["status"] | "NoMatchingTcbLevel" | undefined;
  readonly advisoryIds: readonly string[];
}

/**
 * Checks a QE report against an identity, as Intel's verifier does: masked MISCSELECT and
 * attributes equal the identity's values, MRSIGNER and ISVPRODID equal; then the first
 * level (newest first) whose ISVSVN the report reaches gives the status. Returns the
 * mismatch as a problem, or the standing (status undefined when the identity has no levels).
 */
export function matchQeIdentity(
  report: QeReport,
  identity: QeIdentity,
): { ok: true; standing: QeStanding } | { ok: false; problem: string } {
  if ((report.miscSelect & identity.miscSelectMask) >>> 0 !== identity.miscSelect) {
    return { ok: false, problem: "QE report: MISCSELECT does not match the TD QE identity" };
  }
  const masked = Buffer.from(
    report.attributes.map((byte, i) => byte & (identity.attributesMask[i] ?? 0)),
  );
  if (!masked.equals(identity.attributes)) {
    return { ok: false, problem: "QE report: attributes do not match the TD QE identity" };
  }
  if (!report.mrSigner.equals(identity.mrSigner)) {
    return { ok: false, problem: "QE report: MRSIGNER is not the TD QE identity's" };
  }
  if (report.isvProdId !== identity.isvProdId) {
    return {
      ok: false,
      problem: `QE report: ISVPRODID ${report.isvProdId} is not the TD QE identity's (${identity.isvProdId})`,
    };
  }
  if (identity.tcbLevels.length === 0) {
    return { ok: true, standing: { status: undefined, advisoryIds: [] } };
  }
  const level = identity.tcbLevels.find((candidate) => report.isvSvn >= candidate.isvSvn);
  return {
    ok: true,
    standing:
      level === undefined
        ? { status: "NoMatchingTcbLevel", advisoryIds: [] }
        : { status: level.status, advisoryIds: level.advisoryIds },
  };
}
