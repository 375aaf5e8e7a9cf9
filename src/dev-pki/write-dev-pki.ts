/**
 * `verigate dev-pki`: a throwaway CA with a server and two client certificates,
 * written to a folder for trying verigate. Nothing here is fit for production.
 */
import { constants } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createCertificateAuthority } from "./certificate-authority.js";
import type { CertificateSpec, IssuedCertificate } from "./certificate-authority.js";

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
  readonly clients: {
    readonly alice: CertificateFiles;
    readonly bob: CertificateFiles;
  };
  /** A valid CRL revoking nothing, signed by the CA: `tls.crl`. */
  readonly crl: string;
}

const YEAR_MS = 365 * 86_400_000;
const PRIVATE_FILE_MODE = 0o600;
const PUBLIC_FILE_MODE = 0o644;

/**
 * Makes a dev PKI and writes it to `outDir` (created with mode 0700 if missing; an
 * existing folder keeps its mode). Private keys are written with mode 0600.
 *
 * The CA's private key is deliberately not written: nobody can issue further
 * certificates from this CA, so a leaked dev folder cannot mint new identities.
 * Existing files of the same names are replaced. Prints nothing.
 */
export async function writeDevPki(outDir: string): Promise<DevPkiFiles> {
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
  const now = Date.now();
  const crlPem = await ca.createCrl({
    revoked: [],
    thisUpdate: new Date(now - 60_000),
    nextUpdate: new Date(now + YEAR_MS),
  });

  const files: DevPkiFiles = {
    dir,
    ca: join(dir, "ca.pem"),
    server: certificateFiles(dir, "server"),
    clients: { alice: certificateFiles(dir, "alice"), bob: certificateFiles(dir, "bob") },
    crl: join(dir, "clients.crl"),
  };
  await writeFileWithMode(files.ca, ca.certPem, PUBLIC_FILE_MODE);
  await writeCertificate(files.server, server);
  await writeCertificate(files.clients.alice, alice);
  await writeCertificate(files.clients.bob, bob);
  await writeFileWithMode(files.crl, crlPem, PUBLIC_FILE_MODE);
  return files;
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
