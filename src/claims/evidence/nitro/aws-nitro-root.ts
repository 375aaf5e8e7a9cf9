/**
 * The pinned trust anchor for AWS Nitro Enclaves attestation: "AWS Nitro Enclaves Root
 * G1" (CN=aws.nitro-enclaves, O=Amazon, OU=AWS, C=US; P-384; valid 2019-10-28 to
 * 2049-10-28), the root of the commercial AWS partitions. AWS publishes it in
 * AWS_NitroEnclaves_Root-G1.zip; these are the same bytes as `cabundle[0]` of every
 * real document. Its SHA-256 over the DER is checked when this module loads: a
 * changed constant stops verigate rather than trusting another root.
 */
import { X509Certificate, createHash } from "node:crypto";

/** SHA-256 of the root's DER, lowercase hex. */
export const AWS_NITRO_ROOT_G1_SHA256 =
  "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/** The root certificate, PEM. */
export const AWS_NITRO_ROOT_G1_PEM = `
-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
`.trimStart();

// Fails closed at load: a root that is not the pinned one must never be trusted.
if (
  createHash("sha256").update(new X509Certificate(AWS_NITRO_ROOT_G1_PEM).raw).digest("hex") !==
  AWS_NITRO_ROOT_G1_SHA256
) {
  throw new Error("the built-in AWS Nitro root does not match its pinned SHA-256 fingerprint");
}
