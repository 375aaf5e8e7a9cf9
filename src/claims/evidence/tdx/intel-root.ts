/**
 * The Intel SGX Root CA: the one trust anchor of Intel DCAP attestation (SGX and TDX).
 * Every PCK certificate, every TCB info and QE identity signing certificate and every
 * PCS revocation list chains to it. It is pinned here byte for byte (taken from
 * google/go-tdx-guest's `verify/trusted_root.pem`, the certificate Intel publishes as its
 * SGX Provisioning Certification Root CA) and checked against its SHA-256 fingerprint
 * when this module loads: a build whose copy was altered refuses to start instead of
 * trusting another root.
 */
import { X509Certificate } from "node:crypto";

/** SHA-256 of the Intel SGX Root CA certificate's DER, lowercase hex. */
export const INTEL_SGX_ROOT_CA_SHA256 =
  "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

/** The Intel SGX Root CA certificate (self-signed, EC P-256, valid 2018-05-21 to 2049-12-31). */
export const INTEL_SGX_ROOT_CA_PEM = `-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
`;

const fingerprint = new X509Certificate(INTEL_SGX_ROOT_CA_PEM).fingerprint256
  .replaceAll(":", "")
  .toLowerCase();
if (fingerprint !== INTEL_SGX_ROOT_CA_SHA256) {
  // An integrity failure of the build itself, at import time: never trust a changed anchor.
  throw new Error(
    `pinned Intel SGX Root CA fingerprint mismatch: ${fingerprint}, expected ${INTEL_SGX_ROOT_CA_SHA256}`,
  );
}
