import type { AttestationProfile } from "../profiles/attestation-profile.js";
import type { KeySource } from "./key-source.js";

export type IssuerKind = "identity" | "posture" | "attestation";

/** An issuer of signed tokens, compiled from the config: everything needed to verify one. */
export interface TokenIssuer {
  readonly name: string;
  readonly kind: IssuerKind;
  /** Lowercase header name; `authorization` carries `Bearer <token>`. */
  readonly header: string;
  readonly keys: KeySource;
  readonly algorithms: readonly string[];
  readonly issuer: string;
  /** Undefined only with `unsafeAllowAnyAudience`. */
  readonly audience: string | readonly string[] | undefined;
  readonly skewMs: number;
  readonly maxAgeMs: number | undefined;
  readonly bindToClientCert: boolean;
  /** identity: the claim holding the groups. */
  readonly groupsClaim: string;
  /** attestation: the vendor mapping onto tee.*. */
  readonly profile: AttestationProfile | undefined;
  readonly requireNonce: boolean;
  /** Where the nonce is, when configured (dotted path); otherwise the profile says. */
  readonly nonceClaim: string | undefined;
}
