/**
 * The real Nitro documents in /work/shared/vectors/nitro (see its README), read in
 * place, never copied into the repository, with the clock each one needs.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

/** `shared/vectors/nitro/`, beside the repository (the same layout in CI). */
export const NITRO_VECTORS_URL = new URL(
  "../../../../../../shared/vectors/nitro/",
  import.meta.url,
);

/** A vector file's bytes. */
export function readVector(path: string): Buffer {
  return readFileSync(new URL(path, NITRO_VECTORS_URL));
}

/** A base64 vector file's decoded bytes. */
export function readBase64Vector(path: string): Buffer {
  return Buffer.from(readVector(path).toString("ascii").trim(), "base64");
}

/** A certificate vector (PEM or DER) as DER. */
export function readCertificateVector(path: string): Buffer {
  return new X509Certificate(readVector(path)).raw;
}

/** One real document that verifies against the AWS root. */
export interface RealNitroDocument {
  readonly name: string;
  readonly bytes: Buffer;
  /** The "now" to verify at. */
  readonly now: number;
  readonly timestamp: number;
  readonly debug: boolean;
  /** Where the README says what user_data is bound to: the certificate's DER. */
  readonly boundCertificate?: Buffer;
}

const EVERVAULT_BETA = "evervault/test-data/beta/";
/** Evervault's vectors have no time in the README: one minute after each document's own timestamp. */
const MINUTE_MS = 60_000;

/** The certificate carrying a document in its SAN (Evervault's beta form). */
export const CERT_CONTAINING = {
  debugPem: `${EVERVAULT_BETA}debug-mode-cert-containing-attestation-doc-18-1-23.pem`,
  nonDebugPem: `${EVERVAULT_BETA}non-debug-cert-containing-attestation-document-18-1-23.pem`,
  nonDebugDer: `${EVERVAULT_BETA}non-debug-cert-containing-attestation-document-18-1-23-der.crt`,
} as const;

/** The documents that are not inside a certificate. */
export function realNitroDocuments(): RealNitroDocument[] {
  return [
    {
      name: "blocky-nitrite nitro_attestation",
      bytes: readBase64Vector("blocky-nitrite/nitro_attestation.b64"),
      // README: 2024-09-07 14:37:39.545Z, the document's own timestamp.
      now: Date.parse("2024-09-07T14:37:39.545Z"),
      timestamp: 1725719859545,
      debug: false,
    },
    {
      name: "blocky-nitrite nitro_attestation_debug",
      bytes: readBase64Vector("blocky-nitrite/nitro_attestation_debug.b64"),
      now: Date.parse("2024-09-07T14:38:06.508Z"),
      timestamp: 1725719886508,
      debug: true,
    },
    {
      name: "evervault valid-attestation-doc-bytes",
      bytes: readVector(`${EVERVAULT_BETA}valid-attestation-doc-bytes`),
      now: 1665651482136 + MINUTE_MS,
      timestamp: 1665651482136,
      debug: false,
    },
    {
      name: "evervault debug-mode-attestation-doc-bytes",
      bytes: readVector(`${EVERVAULT_BETA}debug-mode-attestation-doc-bytes`),
      now: 1665582606081 + MINUTE_MS,
      timestamp: 1665582606081,
      debug: true,
    },
    {
      name: "evervault valid-attestation-doc-base64 (GA)",
      bytes: readBase64Vector("evervault/test-data/valid-attestation-doc-base64"),
      now: 1695049410860 + MINUTE_MS,
      timestamp: 1695049410860,
      debug: true,
      boundCertificate: readCertificateVector("evervault/test-data/valid-certificate.der"),
    },
  ];
}

/** The time for the documents inside Evervault's certificates, keyed by `CERT_CONTAINING` path. */
export const CERT_CONTAINING_TIMESTAMPS: Readonly<Record<string, number>> = {
  [CERT_CONTAINING.debugPem]: 1674054632312,
  [CERT_CONTAINING.nonDebugPem]: 1674047239280,
  [CERT_CONTAINING.nonDebugDer]: 1674047239280,
};

/** Evervault's expected PCRs for a file (test-specs), by PCR index. */
export interface EvervaultSpec {
  readonly file: string;
  readonly pcrs: Readonly<Record<string, string>>;
  readonly shouldPcrsMatch: boolean;
}

/** Every Evervault beta test-spec, plus the GA one (whose file is the base64 document). */
export function evervaultSpecs(): EvervaultSpec[] {
  const names = [
    "beta/valid_attestation_doc_check_pcr8_only_time_sensitive.json",
    "beta/valid_attestation_doc_in_cert_der_encoding_time_sensitive.json",
    "beta/valid_attestation_doc_in_cert_incorrect_pcrs_time_sensitive.json",
    "beta/valid_attestation_doc_in_cert_time_sensitive.json",
    "beta/valid_attestation_doc_in_non_debug_mode_with_correct_pcrs_time_sensitive.json",
    "ga/valid_attestation_doc_ga.json",
  ];
  return names.map((name) => {
    const spec = JSON.parse(readVector(`evervault/test-specs/${name}`).toString("utf8")) as {
      file?: string;
      attestationDoc?: string;
      pcrs: Record<string, string>;
      shouldPcrsMatch: boolean;
    };
    return {
      file: spec.file ?? spec.attestationDoc ?? "",
      pcrs: spec.pcrs,
      shouldPcrsMatch: spec.shouldPcrsMatch,
    };
  });
}
