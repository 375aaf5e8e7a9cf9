// An upstream behind verigate that trusts only what verigate signed.
//
//   NODE_EXTRA_CA_CERTS=.quickstart/pki/ca.pem node examples/verify-assertion.mjs 9001 payroll
//
// NODE_EXTRA_CA_CERTS names the CA that issued verigate's server certificate
// (`verigate quickstart` and `verigate dev-pki` write it as ca.pem), so this
// process trusts the JWKS endpoint without ever disabling certificate checks.
import { createServer } from "node:http";
import { createRemoteJWKSet, jwtVerify } from "jose";

const port = Number(process.argv[2] ?? 9001);
const route = process.argv[3] ?? "payroll"; // the verigate route name that forwards here
const issuer = process.env.VERIGATE_ISSUER ?? "verigate";
const jwksUrl =
  process.env.VERIGATE_JWKS_URL ?? "https://localhost:8443/.well-known/verigate/jwks.json";

// Caches the keys and refetches on an unknown kid, so verigate's key rotations need no restart.
const jwks = createRemoteJWKSet(new URL(jwksUrl));

async function caller(req) {
  const token = req.headers["x-verigate-assertion"];
  if (typeof token !== "string") throw new Error("no x-verigate-assertion");
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience: route, // an assertion made for another route is refused
    algorithms: ["ES256"],
    requiredClaims: ["iat", "exp", "jti"],
  });
  return payload;
}

createServer((req, res) => {
  caller(req).then(
    (who) => {
      console.log(
        `${req.method} ${req.url} from ${who.sub ?? "(anonymous)"} via ${who.identity.source}, request ${who.jti}, config ${who.rev}`,
      );
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        `${JSON.stringify({ hello: who.sub ?? null, identity: who.identity, device: who.device, tee: who.tee })}\n`,
      );
    },
    (error) => {
      console.log(`401 ${req.method} ${req.url}: ${error.code ?? error.message}`);
      res.writeHead(401, { "content-type": "text/plain" });
      res.end("unauthorized\n");
    },
  );
}).listen(port, "127.0.0.1", () =>
  console.log(`upstream for route "${route}" on http://127.0.0.1:${port}`),
);
