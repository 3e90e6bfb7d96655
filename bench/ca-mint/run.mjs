#!/usr/bin/env node
// bench/ca-mint: the server CA minting X509-SVIDs in batches (Ca.signWorkloadX509Svids, as
// BatchNewX509SVID calls it): build every TBS, sign the batch, assemble.
//
//   KeyManager over gRPC   the CA key in a KeyManager (the SDK's store and handlers, as the memory
//                          plugin runs them) on a Unix socket; stock SPIRE SignData, one digest per
//                          certificate, all calls of a batch in flight together
//   in-memory key          the same CA with a cached KeyObject: the ceiling without a plugin hop
//
// Usage: node bench/ca-mint/run.mjs [--quick]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));
const quick = process.argv.includes("--quick");
const sizes = quick ? { batch: 100, batches: 5 } : { batch: 500, batches: 10 };
const out = join(root, ".tmp", "bench-ca-mint");
await build({
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["signet-source"],
  external: ["@grpc/grpc-js"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
  absWorkingDir: root,
  entryPoints: [join(root, "bench/ca-mint/harness.ts")],
  outfile: join(out, "harness.mjs"),
});
const { run } = await import(pathToFileURL(join(out, "harness.mjs")).href);
const results = await run({ ...sizes, log: (l) => console.log(l) });

mkdirSync(join(root, "bench", "results"), { recursive: true });
const file = join(root, "bench", "results", `ca-mint-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify({ bench: "ca-mint", quick, node: process.version, sizes, results }, null, 2)}\n`);
console.log(`wrote ${file}`);
