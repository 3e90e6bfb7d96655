#!/usr/bin/env node
// bench/keymanager-sign: how fast a host gets X509-SVID signatures out of a
// KeyManager plugin process (the CA key never leaves the plugin), for one
// BatchNewX509SVID-sized job of 500 TBS-sized messages:
//
//   batch        KeyManagerFacade.signMessages through Signet's BatchSigner
//                extension: one call, node:crypto signs whole messages
//   perDigest4   the facade's fallback for plugins without the extension:
//                hash here, SignData per message, 4 calls in flight
//                (@noble/curves signs each ECDSA digest in the plugin)
//   perDigest1   SignData one at a time, as SPIRE's CA signs
//
// Plugin: @signet/plugin-keymanager-memory (bundled from source into .tmp).
// Needs host/common built (`npx tsc -b host/common`, or `npm run build`).
// Usage: node bench/keymanager-sign/run.mjs [--quick]
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Catalog, HashAlgorithm, KeyManagerFacade, KeyType, createLogger, keyManagerFacadeFor } from "@signet/host-common";
import { KeyManagerService } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";
import { bundlePlugin } from "../../scripts/bundle-plugins.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const quick = process.argv.includes("--quick");
const rounds = quick ? 3 : 7;
const batchSize = 500;
const messageBytes = 600; // a workload X509-SVID TBSCertificate is 500-700 bytes

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const file = await bundlePlugin(join(root, "plugins/keymanager-memory/src/index.ts"), join(root, ".tmp/bench/keymanager-memory"), {
  type: "KeyManager",
  sourceConditions: true,
});
const catalog = await Catalog.load(
  [{ type: "KeyManager", name: "memory", source: { kind: "cmd", path: file }, args: [], data: { kind: "none" } }],
  { side: "server", trustDomain: "example.org", log: createLogger({ level: "error" }), liveness: false },
);
const plugin = catalog.ofType("KeyManager")[0];
const withBatch = keyManagerFacadeFor(plugin, "server");
const withoutBatch = new KeyManagerFacade(plugin.client(KeyManagerService), "keymanager(memory)");

async function perDigestSequential(km, id, messages, opts) {
  const out = [];
  for (const m of messages) out.push(await km.signData(id, createHash(opts.hash).update(m).digest(), opts.signer));
  return out;
}

const cases = {
  "EC_P256/SHA256": { type: KeyType.EC_P256, signer: { hashAlgorithm: HashAlgorithm.SHA256 }, hash: "sha256" },
  "EC_P384/SHA384": { type: KeyType.EC_P384, signer: { hashAlgorithm: HashAlgorithm.SHA384 }, hash: "sha384" },
  "RSA_2048/SHA256": { type: KeyType.RSA_2048, signer: { hashAlgorithm: HashAlgorithm.SHA256 }, hash: "sha256" },
};

const results = {};
for (const [name, c] of Object.entries(cases)) {
  const id = `bench-${name}`;
  await withBatch.generateKey(id, c.type);
  await withoutBatch.getPublicKey(id);
  const ways = {
    batch: (msgs) => withBatch.signMessages(id, msgs, c.signer),
    perDigest4: (msgs) => withoutBatch.signMessages(id, msgs, c.signer),
    perDigest1: (msgs) => perDigestSequential(withoutBatch, id, msgs, c),
  };
  const runs = Object.fromEntries(Object.keys(ways).map((w) => [w, []]));
  // Warm both sides (JIT, plugin code cache), then interleave the ways round by round.
  for (const way of Object.values(ways)) await way(Array.from({ length: 100 }, () => randomBytes(messageBytes)));
  for (let r = 0; r < rounds; r++) {
    for (const [w, way] of Object.entries(ways)) {
      const msgs = Array.from({ length: batchSize }, () => randomBytes(messageBytes));
      const start = process.hrtime.bigint();
      const sigs = await way(msgs);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (sigs.length !== batchSize) throw new Error(`${w}: ${sigs.length} signatures`);
      runs[w].push(batchSize / seconds);
    }
  }
  results[name] = Object.fromEntries(Object.entries(runs).map(([w, xs]) => [w, { signaturesPerSecond: Math.round(median(xs)), runs: xs.map(Math.round) }]));
  const row = results[name];
  console.log(
    `${name.padEnd(16)} batch ${String(row.batch.signaturesPerSecond).padStart(7)} sig/s   perDigest4 ${String(row.perDigest4.signaturesPerSecond).padStart(7)} sig/s   perDigest1 ${String(row.perDigest1.signaturesPerSecond).padStart(7)} sig/s   batch/perDigest4 ${(row.batch.signaturesPerSecond / row.perDigest4.signaturesPerSecond).toFixed(1)}x`,
  );
}
await catalog.close();

const out = join(root, "bench", "results");
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, "keymanager-sign.json"),
  `${JSON.stringify({ bench: "keymanager-sign", date: new Date().toISOString(), node: process.version, batchSize, messageBytes, rounds, results }, null, 2)}\n`,
);
console.log("wrote bench/results/keymanager-sign.json");
