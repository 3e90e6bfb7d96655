#!/usr/bin/env node
// bench/x509-mint: how fast @signet/spiffe mints X509-SVIDs on one core, beside the floor of a
// bare ECDSA P-256 signature measured in the same run (this machine's speed drifts by a third).
//
//   sign floor     crypto.sign(sha256, 512 B TBS-sized buffer, cached P-256 KeyObject)
//   template+sign  x509SvidTemplate + mintCertificateSync, cached P-256 CA KeyObject,
//                  leaf SPKIs from a pool of 64 (the server already holds the SPKI bytes)
//   csr+mint       parseCsr (parse, JWK import, signature check) + template + sign, over
//                  a pool of 16 openssl-made P-256 CSRs
//
// Needs `npx tsc -b spiffe` first. Usage: node bench/x509-mint/run.mjs [--quick]
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, sign, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// bench is not a dependant of @signet/spiffe; read its build output directly.
import {
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificate,
  mintCertificateSync,
  parseCsr,
  selfSignedCaTemplate,
  SpiffeId,
  spkiOf,
  TrustDomain,
  x509SvidTemplate,
} from "../../spiffe/dist/index.js";

const quick = process.argv.includes("--quick");
const windowMs = quick ? 500 : 2000;
const rounds = quick ? 2 : 3;

const td = TrustDomain.parse("example.org");
const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
const signer = keyObjectSigner(ca.privateKey);
const caDer = mintCertificateSync(selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(ca.publicKey) }), signer);
const issuer = issuerFromCertificate(caDer);
const spkis = Array.from({ length: 64 }, () => spkiOf(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey));
const ids = Array.from({ length: 64 }, (_, i) => SpiffeId.parse(`spiffe://example.org/ns/bench/sa/w${i}`));

const dir = mkdtempSync(join(tmpdir(), "signet-x509-bench-"));
const csrs = Array.from({ length: 16 }, (_, i) => {
  const out = join(dir, `csr-${i}.der`);
  execFileSync(
    "openssl",
    ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, `k${i}.pem`), "-subj", "/O=SPIRE", "-outform", "DER", "-out", out],
    { stdio: "ignore" },
  );
  return readFileSync(out);
});
rmSync(dir, { recursive: true, force: true });

// Sanity: what we measure is a certificate node accepts.
const sample = new X509Certificate(mintCertificateSync(x509SvidTemplate({ spiffeId: ids[0], spki: spkis[0], issuer }), signer));
if (!sample.verify(ca.publicKey)) throw new Error("minted certificate does not verify");

function rate(fn) {
  let n = 0;
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    for (let k = 0; k < 32; k++) fn(n++);
  }
  return (n * 1000) / windowMs;
}
async function rateAsync(fn) {
  let n = 0;
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    for (let k = 0; k < 32; k++) await fn(n++);
  }
  return (n * 1000) / windowMs;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const tbsSized = Buffer.alloc(512, 7);
const cases = {
  "sign floor (P-256 crypto.sign)": () => rate(() => sign("sha256", tbsSized, ca.privateKey)),
  "template+sign, cached P-256 KeyObject": () =>
    rate((i) => mintCertificateSync(x509SvidTemplate({ spiffeId: ids[i & 63], spki: spkis[i & 63], issuer }), signer)),
  "template+sign, async mintCertificate": () =>
    rateAsync((i) => mintCertificate(x509SvidTemplate({ spiffeId: ids[i & 63], spki: spkis[i & 63], issuer }), signer)),
  "CSR parse+verify+mint": () =>
    rate((i) => {
      const csr = parseCsr(csrs[i & 15]);
      return mintCertificateSync(x509SvidTemplate({ spiffeId: ids[i & 63], spki: csr.spki, issuer }), signer);
    }),
};

for (const fn of Object.values(cases)) await fn(); // warm-up
console.log(`x509-mint: ${rounds} windows of ${windowMs} ms, median certs/s on one core`);
const results = {};
for (const [name, fn] of Object.entries(cases)) {
  const runs = [];
  for (let r = 0; r < rounds; r++) runs.push(await fn());
  results[name] = { median: median(runs), runs };
  console.log(`  ${name.padEnd(40)} ${Math.round(median(runs)).toLocaleString("en-US").padStart(8)} /s   (runs: ${runs.map((x) => Math.round(x)).join(", ")})`);
}

const { mkdirSync, writeFileSync } = await import("node:fs");
const outDir = new URL("../results/", import.meta.url);
mkdirSync(outDir, { recursive: true });
writeFileSync(new URL("x509-mint.json", outDir), `${JSON.stringify({ bench: "x509-mint", date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
console.log("wrote bench/results/x509-mint.json");
