// One key-generation micro-figure, in its own process (node keygen.mjs NAME MS):
// prints {"name", "perSec", "n"} as JSON. Run by run.mjs with a time limit,
// because exporting a JWK from a key fresh out of generateKeyPairSync can
// deadlock Node 20 (the GC finalizes the KeyGenJob while ExportJWK holds the
// key's mutex, and the job's destructor takes the same mutex): a figure that
// does not answer in time is reported as hung. It prints its progress on
// stderr so the parent can tell how many operations ran before a hang.
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { createCsr } from "@signet/spiffe";
import { generateKey } from "../../host/agent/dist/keys/keys.js";

const [name, msArg] = process.argv.slice(2);
const ms = Number(msArg ?? 2000);
const p256 = { namedCurve: "P-256" };
const key = generateKeyPairSync("ec", p256);

const figures = {
  keygenOnly: () => generateKeyPairSync("ec", p256),
  // host/agent generateKey: keygen, export SEC1, SPKI and PKCS#8 put together from it
  generateKey: () => generateKey("ec-p256"),
  // keygen, export SPKI and PKCS#8 DER through OpenSSL's encoders
  keygenExportDer: () => {
    const k = generateKeyPairSync("ec", p256);
    return [k.publicKey.export({ type: "spki", format: "der" }), k.privateKey.export({ type: "pkcs8", format: "der" })];
  },
  exportDerOnly: () => key.publicKey.export({ type: "spki", format: "der" }),
  exportJwkOnly: () => key.privateKey.export({ format: "jwk" }),
  exportPkcs8: () => key.privateKey.export({ type: "pkcs8", format: "der" }),
  exportSec1: () => key.privateKey.export({ type: "sec1", format: "der" }),
  csr: () => createCsr({ privateKey: key.privateKey, spki: keySpki, uriSans: ["spiffe://example.org/bench/w1"] }),
};
const keySpki = key.publicKey.export({ type: "spki", format: "der" });

const fn = figures[name];
if (!fn) {
  console.error(`unknown figure ${name}; one of ${Object.keys(figures).join(", ")}`);
  process.exit(2);
}
if (name === "generateKey") {
  const k = generateKey("ec-p256");
  if (!k.spki.equals(createPublicKey(k.privateKey).export({ type: "spki", format: "der" }))) throw new Error("SPKI built from SEC1 differs from Node's");
  if (!k.pkcs8.equals(k.privateKey.export({ type: "pkcs8", format: "der" }))) throw new Error("PKCS#8 built from SEC1 differs from Node's");
}
let n = 0;
const t = performance.now();
const end = t + ms;
while (performance.now() < end) {
  for (let i = 0; i < 50; i++) fn();
  n += 50;
  if (n % 5000 === 0) process.stderr.write(`${n}\n`);
}
process.stdout.write(`${JSON.stringify({ name, n, perSec: (n * 1000) / (performance.now() - t) })}\n`);
