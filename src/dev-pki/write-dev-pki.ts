/**
 * `verigate dev-pki`: a throwaway CA with a server and client certificates, and an
 * attestation CA below it whose client (carol) carries device and TEE claims,
 * written to a folder for trying verigate. Nothing here is fit for production.
 */
import { constants } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createCertificateAuthority } from "./certificate-authority.js";
import { createDevAttestationService } from "./dev-attestation-service.js";
import { DEV_MEASUREMENT } from "./dev-measurement.js";
import type {
  CertificateClaimsSpec,
  CertificateSpec,
  DiceTcbInfoSpec,
  IssuedCertificate,
} from "./certificate-authority.js";

export { DEV_MEASUREMENT } from "./dev-measurement.js";

/** Absolute paths of a certificate and its private key. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/** Absolute paths of everything `writeDevPki` wrote. */
export interface DevPkiFiles {
  readonly dir: string;
  /** The CA certificate: `tls.clientCAs` for verigate, `--cacert` for a client. */
  readonly ca: string;
  /** Server certificate for `localhost`, `*.localhost`, 127.0.0.1 and ::1. */
  readonly server: CertificateFiles;
  /**
   * The "verigate dev attestation CA" certificate (an intermediate issued by the CA;
   * its key is not written): the `ca` of a posture and an attestation issuer that
   * vouch for carol's claims. Not a TLS trust anchor: clients send it in their chain.
   */
  readonly attestationCa: string;
  /**
   * alice and bob (issued by the CA, identity only), carol (issued by the attestation
   * CA, with device and TEE claims; her file holds leaf + attestation CA), and any
   * extra clients by name (issued by the attestation CA).
   */
  readonly clients: {
    readonly alice: CertificateFiles;
    readonly bob: CertificateFiles;
    readonly carol: CertificateFiles;
    readonly [name: string]: CertificateFiles;
  };
  /**
   * Two CRLs revoking nothing, the CA's then the attestation CA's: `tls.crl`. Once a
   * CRL is set, Node needs one for every CA in a chain; it reads only the first CRL
   * of a string, so split the file (the tls loader does).
   */
  readonly crl: string;
  /**
   * A throwaway attestation service for trying attestation tokens: its ES256
   * private key (PKCS#8, mode 0600; `verigate dev-token` signs with it) and its
   * public JWKS (the `jwks.file` of an attestation issuer).
   */
  readonly attestationService: { readonly key: string; readonly jwks: string };
}

/** An extra client certificate, issued by the attestation CA. */
export interface ExtraDevClient {
  /** Lowercase letters, digits and `-`; names the files (`NAME.pem`, `NAME-key.pem`) and the CN. */
  readonly name: string;
  readonly claims?: CertificateClaimsSpec;
  readonly diceTcbInfo?: DiceTcbInfoSpec;
}

/** Options of `writeDevPki`. */
export interface DevPkiOptions {
  /** More clients, issued by the attestation CA with the same identity shape as carol. */
  readonly extraClients?: readonly ExtraDevClient[];
}

const YEAR_MS = 365 * 86_400_000;
const CLIENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Names whose files already exist in the folder. */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "alice",
  "bob",
  "carol",
  "server",
  "ca",
  "attestation-ca",
  "attestation-service",
]);
const PRIVATE_FILE_MODE = 0o600;
const PUBLIC_FILE_MODE = 0o644;

/**
 * Makes a dev PKI and writes it to `outDir` (created with mode 0700 if missing; an
 * existing folder keeps its mode). Private keys are written with mode 0600.
 *
 * The CA's private key is deliberately not written: nobody can issue further
 * certificates from this CA, so a leaked dev folder cannot mint new identities.
 * Existing files of the same names are replaced. Prints nothing. Throws on an
 * extra client name that is invalid, repeated or taken, before writing anything.
 */
export async function writeDevPki(
  outDir: string,
  options: DevPkiOptions = {},
): Promise<DevPkiFiles> {
  const extraClients = options.extraClients ?? [];
  checkExtraClientNames(extraClients);
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const ca = await createCertificateAuthority({ commonName: "verigate dev CA" });
  const server = await ca.issue({
    commonName: "localhost",
    organization: "verigate dev",
    dnsNames: ["localhost", "*.localhost"],
    ips: ["127.0.0.1", "::1"],
    extendedKeyUsage: "serverAuth",
  });
  const alice = await ca.issue(devUser("alice"));
  const bob = await ca.issue(devUser("bob"));
  const attestationCa = await ca.issueIntermediate("verigate dev attestation CA");
  const carol = await attestationCa.issue({
    ...devUser("carol"),
    claims: {
      device: {
        managed: true,
        compliant: true,
        diskEncrypted: true,
        os: "linux",
        osVersion: "6.8.0",
      },
      tee: {
        platform: "sev-snp",
        measurement: DEV_MEASUREMENT,
        debug: false,
        tcbStatus: "UpToDate",
        svn: 3,
      },
    },
  });
  const extras: [string, IssuedCertificate][] = [];
  for (const extra of extraClients) {
    const issued = await attestationCa.issue({
      ...devUser(extra.name),
      ...(extra.claims === undefined ? {} : { claims: extra.claims }),
      ...(extra.diceTcbInfo === undefined ? {} : { diceTcbInfo: extra.diceTcbInfo }),
    });
    extras.push([extra.name, issued]);
  }
  const now = Date.now();
  const validity = { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + YEAR_MS) };
  const crlPem = await ca.createCrl({ revoked: [], ...validity });
  const attestationCrlPem = await attestationCa.createCrl({ revoked: [], ...validity });

  const files: DevPkiFiles = {
    dir,
    ca: join(dir, "ca.pem"),
    server: certificateFiles(dir, "server"),
    attestationCa: join(dir, "attestation-ca.pem"),
    clients: {
      ...Object.fromEntries(extras.map(([name]) => [name, certificateFiles(dir, name)])),
      alice: certificateFiles(dir, "alice"),
      bob: certificateFiles(dir, "bob"),
      carol: certificateFiles(dir, "carol"),
    },
    crl: join(dir, "clients.crl"),
    attestationService: {
      key: join(dir, "attestation-service-key.pem"),
      jwks: join(dir, "attestation-service.jwks.json"),
    },
  };
  const service = await createDevAttestationService();
  await writeFileWithMode(files.attestationService.key, service.keyPem, PRIVATE_FILE_MODE);
  await writeFileWithMode(files.attestationService.jwks, service.jwksJson, PUBLIC_FILE_MODE);
  await writeFileWithMode(files.ca, ca.certPem, PUBLIC_FILE_MODE);
  await writeFileWithMode(files.attestationCa, attestationCa.certPem, PUBLIC_FILE_MODE);
  await writeCertificate(files.server, server);
  await writeCertificate(files.clients.alice, alice);
  await writeCertificate(files.clients.bob, bob);
  await writeCertificate(files.clients.carol, carol);
  for (const [name, issued] of extras) {
    await writeCertificate(certificateFiles(dir, name), issued);
  }
  await writeFileWithMode(files.crl, crlPem + attestationCrlPem, PUBLIC_FILE_MODE);
  return files;
}

function checkExtraClientNames(extraClients: readonly ExtraDevClient[]): void {
  const seen = new Set<string>();
  for (const { name } of extraClients) {
    // The name becomes a file name: no path separators, no dot files, nothing taken.
    if (!CLIENT_NAME.test(name)) {
      throw new Error(`extra client name ${JSON.stringify(name)}: use a-z, 0-9 and "-"`);
    }
    // "x-key" would write x-key.pem over the key file of a client named "x".
    if (RESERVED_NAMES.has(name) || seen.has(name) || name.endsWith("-key")) {
      throw new Error(`extra client name "${name}" is taken`);
    }
    seen.add(name);
  }
}

function devUser(name: string): CertificateSpec {
  return {
    commonName: name,
    organization: "verigate dev",
    emails: [`${name}@verigate.test`],
    uris: [`spiffe://verigate.test/user/${name}`],
  };
}

function certificateFiles(dir: string, name: string): CertificateFiles {
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
}

async function writeCertificate(files: CertificateFiles, issued: IssuedCertificate): Promise<void> {
  await writeFileWithMode(files.cert, issued.chainPem, PUBLIC_FILE_MODE);
  await writeFileWithMode(files.key, issued.keyPem, PRIVATE_FILE_MODE);
}

/**
 * Writes `text` so that it is never readable beyond `mode`, even when the file
 * already existed with a looser mode (the mode given to open() applies only to a
 * new file): the mode is set before the content is written. Refuses to follow a
 * symlink planted in a shared folder.
 */
async function writeFileWithMode(path: string, text: string, mode: number): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  const handle = await open(path, flags, mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(text, "utf8");
  } finally {
    await handle.close();
  }
}
