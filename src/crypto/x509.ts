/**
 * The one place @peculiar/x509 is loaded: it needs reflect-metadata before it
 * loads, and Node's WebCrypto as its provider. Import `x509` from here only.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
