/**
 * The policy's input document. Every value here was verified by verigate itself
 * (or describes the request as verigate parsed it); only `claims/` builds one.
 * An attribute that is `undefined` is absent: it satisfies no operator except
 * `present: false`.
 */
/**
 * `attestation`: a self-signed client certificate trusted only because the TEE
 * evidence inside it verified and binds its key (an evidence issuer's
 * `acceptSelfSignedCertificates`).
 */
export type IdentitySource = "certificate" | "token" | "attestation" | "none";

export interface IdentityClaims {
  readonly source: IdentitySource;
  readonly subject?: string;
  readonly commonName?: string;
  readonly emails?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly spiffeId?: string;
  readonly groups?: readonly string[];
  readonly issuer?: string;
  /** SHA-256 of the client certificate's DER, lowercase hex. */
  readonly certFingerprint?: string;
}

export interface DeviceClaims {
  readonly id?: string;
  readonly managed?: boolean;
  readonly compliant?: boolean;
  readonly os?: string;
  readonly osVersion?: string;
  readonly diskEncrypted?: boolean;
  readonly firewall?: boolean;
  readonly screenLock?: boolean;
  readonly issuer?: string;
  /** Age of the posture statement in milliseconds. */
  readonly age?: number;
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface TeeClaims {
  readonly platform?: string;
  /** Lowercase hex. */
  readonly measurement?: string;
  readonly debug?: boolean;
  readonly tcbStatus?: string;
  readonly svn?: number;
  readonly issuer?: string;
  /** Age of the attestation result in milliseconds. */
  readonly age?: number;
  readonly boundToClientCert?: boolean;
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface RequestClaims {
  readonly method: string;
  /** The canonical path: exactly what was routed, authorized and forwarded. */
  readonly path: string;
  /** Lowercase host name without port. */
  readonly host: string;
  /** The TCP peer address (IPv4-mapped IPv6 addresses are written as IPv4). */
  readonly sourceIp: string;
  /** Request arrival, milliseconds since the epoch. */
  readonly time: number;
}

export interface Claims {
  readonly identity: IdentityClaims;
  readonly device?: DeviceClaims;
  readonly tee?: TeeClaims;
  readonly request: RequestClaims;
}
