/**
 * X.509 CRLs from Intel's PCS (the PCK Platform/Processor CA CRLs and the root CA CRL),
 * read with the strict DER reader and verified with node:crypto. A CRL is trusted only
 * once its signature verifies with the CA that issued it, and only while `now` lies
 * between its thisUpdate and nextUpdate (a CRL without nextUpdate is refused: it could
 * never be stale, so it could be replayed forever).
 */
import { type KeyObject, verify } from "node:crypto";
import {
  DER_TAG,
  DerError,
  DerReader,
  decodeObjectIdentifier,
  readSingle,
} from "../../der-reader.js";
import { serialHex } from "./certificate-names.js";

/** A CRL as DER bytes, or as PEM text (`-----BEGIN X509 CRL-----`). */
export type CrlSource = Uint8Array | string;

/** A parsed CRL; its signature is not verified until `isCrlSignedBy` says so. */
export interface RevocationList {
  /** The issuer Name's DER content. */
  readonly issuer: Buffer;
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  /** Revoked serial numbers, canonical hex (see `serialHex`). */
  readonly revokedSerials: ReadonlySet<string>;
  /** The DER of TBSCertList (what the signature covers) and the DER ECDSA signature. */
  readonly signedBytes: Buffer;
  readonly signature: Buffer;
}

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const CRL_EXTENSIONS_TAG = 0xa0;
const PEM = /^\s*-----BEGIN X509 CRL-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END X509 CRL-----\s*$/;
/** Intel's PCK CRLs list a few hundred serials; this bounds the work a CRL can cause. */
const MAX_CRL_BYTES = 4 * 1024 * 1024;

/** Parses a CRL (DER or PEM). Never throws. */
export function parseRevocationList(
  source: CrlSource,
  what: string,
): { ok: true; crl: RevocationList } | { ok: false; problem: string } {
  let der: Buffer;
  if (typeof source === "string") {
    const match = PEM.exec(source);
    if (match === null) return { ok: false, problem: `${what}: not a PEM X509 CRL` };
    der = Buffer.from((match[1] ?? "").replace(/\r?\n/g, ""), "base64");
  } else {
    der = Buffer.from(source);
  }
  if (der.length > MAX_CRL_BYTES) return { ok: false, problem: `${what}: too large` };
  try {
    return { ok: true, crl: readCrl(der) };
  } catch (e: unknown) {
    if (e instanceof DerError) return { ok: false, problem: `${what}: ${e.message}` };
    throw e;
  }
}

/** True when the CRL's signature verifies with `key` (ECDSA with SHA-256). */
export function isCrlSignedBy(crl: RevocationList, key: KeyObject): boolean {
  try {
    return verify("sha256", crl.signedBytes, key, crl.signature);
  } catch {
    return false;
  }
}

/** Why the CRL is not current at `now`, or undefined when it is. */
export function findStaleCrl(crl: RevocationList, now: number, what: string): string | undefined {
  if (now < crl.thisUpdate) {
    return `${what}: not valid before ${new Date(crl.thisUpdate).toISOString()} (thisUpdate)`;
  }
  if (now > crl.nextUpdate) {
    return `${what}: expired at ${new Date(crl.nextUpdate).toISOString()} (nextUpdate)`;
  }
  return undefined;
}

function readCrl(der: Buffer): RevocationList {
  const list = readSingle(der, DER_TAG.sequence, "CertificateList");
  const outer = new DerReader(list);
  const tbsContent = outer.readTagged(DER_TAG.sequence, "TBSCertList");
  // TBSCertList is the first element: its encoding runs from the list's start to its content's end.
  const signedBytes = Buffer.from(
    list.subarray(0, tbsContent.byteOffset - list.byteOffset + tbsContent.length),
  );
  const outerAlgorithm = readAlgorithm(outer.readTagged(DER_TAG.sequence, "signatureAlgorithm"));
  const signatureBits = outer.readTagged(DER_TAG.bitString, "signatureValue");
  outer.expectEnd("CertificateList");
  if (signatureBits[0] !== 0) throw new DerError("signatureValue: unused bits");

  const tbs = new DerReader(tbsContent);
  if (tbs.peekTag() === DER_TAG.integer) {
    const version = tbs.readTagged(DER_TAG.integer, "version");
    if (version.length !== 1 || version[0] !== 1) throw new DerError("version: not v2");
  }
  const innerAlgorithm = readAlgorithm(tbs.readTagged(DER_TAG.sequence, "signature"));
  if (innerAlgorithm !== ECDSA_WITH_SHA256 || outerAlgorithm !== ECDSA_WITH_SHA256) {
    throw new DerError("signature algorithm is not ecdsa-with-SHA256");
  }
  const issuer = Buffer.from(tbs.readTagged(DER_TAG.sequence, "issuer"));
  const thisUpdate = readTime(tbs, "thisUpdate");
  const nextTag = tbs.peekTag();
  if (nextTag !== UTC_TIME && nextTag !== GENERALIZED_TIME) {
    throw new DerError("nextUpdate: missing");
  }
  const nextUpdate = readTime(tbs, "nextUpdate");
  const revokedSerials = new Set<string>();
  if (tbs.peekTag() === DER_TAG.sequence) {
    const entries = new DerReader(tbs.readTagged(DER_TAG.sequence, "revokedCertificates"));
    while (!entries.isDone) {
      const entry = new DerReader(entries.readTagged(DER_TAG.sequence, "revokedCertificate"));
      revokedSerials.add(serialHex(entry.readTagged(DER_TAG.integer, "userCertificate")));
      readTime(entry, "revocationDate");
      if (!entry.isDone) entry.readTagged(DER_TAG.sequence, "crlEntryExtensions");
      entry.expectEnd("revokedCertificate");
    }
  }
  if (tbs.peekTag() === CRL_EXTENSIONS_TAG) tbs.read();
  tbs.expectEnd("TBSCertList");
  return {
    issuer,
    thisUpdate,
    nextUpdate,
    revokedSerials,
    signedBytes,
    signature: Buffer.from(signatureBits.subarray(1)),
  };
}

function readAlgorithm(content: Uint8Array): string {
  const reader = new DerReader(content);
  const oid = decodeObjectIdentifier(
    reader.readTagged(DER_TAG.objectIdentifier, "algorithm"),
    "algorithm",
  );
  // ecdsa-with-SHA256 has absent parameters (RFC 5758).
  reader.expectEnd("AlgorithmIdentifier");
  return oid;
}

/** UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ` (RFC 5280 forms only). */
function readTime(reader: DerReader, what: string): number {
  const element = reader.read();
  const text = Buffer.from(element.content).toString("latin1");
  let match: RegExpExecArray | null;
  let year: number;
  if (element.tag === UTC_TIME && (match = /^(\d{2})(\d{10})Z$/.exec(text)) !== null) {
    const short = Number(match[1]);
    year = short >= 50 ? 1900 + short : 2000 + short;
  } else if (
    element.tag === GENERALIZED_TIME &&
    (match = /^(\d{4})(\d{10})Z$/.exec(text)) !== null
  ) {
    year = Number(match[1]);
  } else {
    throw new DerError(`${what}: not an RFC 5280 time`);
  }
  const rest = match[2] ?? "";
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((i) =>
    Number(rest.slice(i, i + 2)),
  );
  const time = Date.UTC(year, (month ?? 0) - 1, day, hour, minute, second);
  const check = new Date(time);
  if (
    check.getUTCMonth() + 1 !== month ||
    check.getUTCDate() !== day ||
    (hour ?? 24) > 23 ||
    (minute ?? 60) > 59 ||
    (second ?? 60) > 59
  ) {
    throw new DerError(`${what}: not a valid date`);
  }
  return time;
}
