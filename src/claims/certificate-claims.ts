/**
 * Device and TEE claims carried inside a client certificate (DESIGN.md, "Where
 * claims come from" -> Client certificate): the verigate claims extension and the
 * TCG DICE TcbInfo extension. A certificate's word is believed only when a CA of a
 * configured issuer of the matching kind signed its way onto the leaf's path:
 * `posture` for `device.*`, `attestation` for `tee.*`. Everything else is dropped
 * with a note for the audit log.
 *
 * Precedence when both extensions speak about the TEE: they are merged only when
 * they agree. The verigate extension names the platform and tcbStatus (DICE knows
 * neither; its platform is `dice` when the verigate extension names none), each
 * fills what the other leaves out, and when both state `measurement`, `debug` or
 * `svn` with different values, ALL tee.* claims are refused. Picking a winner would
 * let one of two contradictory statements hide the other (a `debug: false` masking a
 * DICE debug flag); refusing leaves the client where a certificate without TEE
 * claims stands, which no policy may treat as better.
 */
import { x509 } from "../crypto/x509.js";
import type { DeviceClaims, TeeClaims } from "./claims.js";
import { readCertificateExtensions, type CertificateExtension } from "./certificate-extensions.js";
import {
  buildSignaturePath,
  findVouchingIssuer,
  type SignaturePath,
  type VouchingIssuer,
} from "./certificate-vouching.js";
import {
  DICE_TCB_INFO_OID,
  parseDiceTcbInfo,
  teeStatementFromDiceTcbInfo,
  type DiceTcbInfo,
} from "./dice-tcb-info.js";
import {
  VERIGATE_CLAIMS_OID,
  parseVerigateClaimsExtension,
  type DeviceStatement,
  type TeeStatement,
} from "./verigate-claims-extension.js";

export type { VouchingIssuer } from "./certificate-vouching.js";

/** Device and TEE claims a client certificate carries, with notes for the audit log. */
export interface CertificateClaims {
  readonly device?: DeviceClaims;
  readonly tee?: TeeClaims;
  /** Why something in the certificate was not believed; empty when nothing was dropped. */
  readonly notes: readonly string[];
}

const VERIGATE_SOURCE = "verigate claims extension";
const DICE_SOURCE = "DICE TcbInfo extension";
/** The attributes both extensions can state: a disagreement refuses tee.* outright. */
const SHARED_TEE_FIELDS = ["measurement", "debug", "svn"] as const;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

interface DiceSource {
  readonly tcbInfo: DiceTcbInfo;
  readonly statement: ReturnType<typeof teeStatementFromDiceTcbInfo>;
}

/**
 * Reads the device and TEE claims of a client certificate, believing each only when
 * an issuer of the matching kind vouches for it by signature.
 *
 * @param chain DER certificates: the leaf (already verified by OpenSSL against the
 *   TLS trust anchors) first, then whatever the peer sent.
 * @param issuers The configured issuers; only `posture` and `attestation` ones count.
 * @param now Milliseconds since the epoch: the clock for validity and `age`.
 *
 * Never throws: any failure yields no device or TEE claims and a note (fails
 * closed). `tee.boundToClientCert` is true, since the claims ride in the very
 * certificate that authenticated the TLS connection.
 */
export function claimsFromCertificate(
  chain: readonly Buffer[],
  issuers: readonly VouchingIssuer[],
  now: number,
): CertificateClaims {
  try {
    return readCertificateClaims(chain, issuers, now);
  } catch {
    return Object.freeze({
      notes: Object.freeze(["certificate claims could not be read: no device or TEE claims"]),
    });
  }
}

function readCertificateClaims(
  chain: readonly Buffer[],
  issuers: readonly VouchingIssuer[],
  now: number,
): CertificateClaims {
  const [leafDer] = chain;
  if (leafDer === undefined) return Object.freeze({ notes: Object.freeze([]) });
  const unparsable = Object.freeze({
    notes: Object.freeze(["the client certificate cannot be parsed: no device or TEE claims"]),
  });
  let extensions: CertificateExtension[];
  try {
    // The extensions by their exact OID (see certificate-extensions.ts): a quick read,
    // so that a certificate without claims (most of them) costs no full parse.
    extensions = readCertificateExtensions(leafDer);
  } catch {
    return unparsable;
  }
  const verigateExtensions = extensions.filter((e) => e.oid === VERIGATE_CLAIMS_OID);
  const diceExtensions = extensions.filter((e) => e.oid === DICE_TCB_INFO_OID);
  if (verigateExtensions.length === 0 && diceExtensions.length === 0) {
    return Object.freeze({ notes: Object.freeze([]) });
  }
  let leaf: x509.X509Certificate;
  try {
    // @peculiar/x509 for the subject (written as identity.subject is) and notBefore.
    leaf = new x509.X509Certificate(new Uint8Array(leafDer));
  } catch {
    return unparsable;
  }

  const notes: string[] = [];
  const subject = leaf.subject.replace(CONTROL_CHARACTERS, (c) => `\\u${hex4(c)}`);
  let device: DeviceStatement | undefined;
  let verigateTee: TeeStatement | undefined;
  let dice: DiceSource | undefined;

  // RFC 5280: an extension appears at most once. Two copies would be two answers.
  if (verigateExtensions.length > 1) {
    notes.push(`${VERIGATE_SOURCE}: ignored: it appears more than once`);
  } else if (verigateExtensions[0] !== undefined) {
    const result = parseVerigateClaimsExtension(verigateExtensions[0].value);
    if (!result.ok) {
      notes.push(`${VERIGATE_SOURCE}: ignored: ${result.problem}`);
    } else {
      device = result.statement.device;
      verigateTee = result.statement.tee;
      for (const field of result.statement.ignoredFields) {
        notes.push(`${VERIGATE_SOURCE}: unknown top-level field ${JSON.stringify(field)} ignored`);
      }
    }
  }
  if (diceExtensions.length > 1) {
    notes.push(`${DICE_SOURCE}: ignored: it appears more than once`);
  } else if (diceExtensions[0] !== undefined) {
    const result = parseDiceTcbInfo(diceExtensions[0].value);
    if (!result.ok) notes.push(`${DICE_SOURCE}: ignored: ${result.problem}`);
    else dice = { tcbInfo: result.tcbInfo, statement: teeStatementFromDiceTcbInfo(result.tcbInfo) };
  }
  if (device === undefined && verigateTee === undefined && dice === undefined) {
    return Object.freeze({ notes: Object.freeze(notes) });
  }

  // Signatures are checked only now, when there is something to vouch for.
  const path: SignaturePath = buildSignaturePath(chain, now);
  notes.push(...path.notes.map((note) => `certificate claims: ${note}`));
  const age = Math.max(0, now - leaf.notBefore.getTime());
  const claims: { device?: DeviceClaims; tee?: TeeClaims } = {};

  if (device !== undefined) {
    const posture = findVouchingIssuer(path, issuers, "posture", now);
    if (posture === undefined) {
      notes.push(`${VERIGATE_SOURCE}: device.* ignored: no posture issuer vouches for ${subject}`);
    } else {
      claims.device = Object.freeze({ ...device, issuer: posture.name, age });
    }
  }

  if (verigateTee !== undefined || dice !== undefined) {
    const attestation = findVouchingIssuer(path, issuers, "attestation", now);
    if (attestation === undefined) {
      for (const source of [
        ...(verigateTee === undefined ? [] : [VERIGATE_SOURCE]),
        ...(dice === undefined ? [] : [DICE_SOURCE]),
      ]) {
        notes.push(`${source}: tee.* ignored: no attestation issuer vouches for ${subject}`);
      }
    } else {
      const conflicts = disagreements(verigateTee, dice);
      if (conflicts.length > 0) {
        notes.push(
          `tee.* ignored: the ${VERIGATE_SOURCE} and the ${DICE_SOURCE} disagree on ${conflicts.join(", ")}`,
        );
      } else {
        claims.tee = Object.freeze({
          ...mergeTee(verigateTee, dice),
          issuer: attestation.name,
          age,
          boundToClientCert: true,
        });
      }
    }
  }
  return Object.freeze({ ...claims, notes: Object.freeze(notes) });
}

function disagreements(verigate: TeeStatement | undefined, dice: DiceSource | undefined): string[] {
  if (verigate === undefined || dice === undefined) return [];
  return SHARED_TEE_FIELDS.filter((field) => {
    const stated = verigate[field];
    const measured = dice.statement[field];
    return stated !== undefined && measured !== undefined && stated !== measured;
  });
}

/** Both statements, known to agree, as one; raw fields under `claims`, DICE's under `claims.dice`. */
function mergeTee(
  verigate: TeeStatement | undefined,
  dice: DiceSource | undefined,
): Omit<TeeClaims, "issuer" | "age" | "boundToClientCert"> {
  const platform = verigate?.platform ?? dice?.statement.platform;
  const measurement = verigate?.measurement ?? dice?.statement.measurement;
  const debug = verigate?.debug ?? dice?.statement.debug;
  const svn = verigate?.svn ?? dice?.statement.svn;
  const tcbStatus = verigate?.tcbStatus;
  const raw = {
    ...(verigate?.claims ?? {}),
    ...(dice === undefined ? {} : { dice: dice.tcbInfo }),
  };
  return {
    ...(platform === undefined ? {} : { platform }),
    ...(measurement === undefined ? {} : { measurement }),
    ...(debug === undefined ? {} : { debug }),
    ...(tcbStatus === undefined ? {} : { tcbStatus }),
    ...(svn === undefined ? {} : { svn }),
    ...(Object.keys(raw).length === 0 ? {} : { claims: Object.freeze(raw) }),
  };
}

function hex4(character: string): string {
  return (character.codePointAt(0) ?? 0).toString(16).padStart(4, "0");
}
