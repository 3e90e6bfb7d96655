#!/usr/bin/env node
// bench/svid-batch: BatchNewX509SVID throughput, CSR checks inline vs on a
// worker pool (see bench.ts). Bundles the TypeScript sources with esbuild
// (no build needed), then runs them. Usage: node bench/svid-batch/run.mjs [--quick]
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = `${root}.tmp/bench/svid-batch`;
mkdirSync(out, { recursive: true });
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["signet-source"],
  external: ["@grpc/grpc-js", "esbuild"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "error",
};
await build({ ...common, entryPoints: [`${root}bench/svid-batch/bench.ts`], outfile: `${out}/bench.mjs` });
await build({ ...common, entryPoints: [`${root}host/server/src/api/svid/v1/csr-worker.ts`], outfile: `${out}/csr-worker.mjs` });
const r = spawnSync(process.execPath, [`${out}/bench.mjs`, `${out}/csr-worker.mjs`, `${root}bench/results/svid-batch.json`, ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: root,
});
process.exit(r.status ?? 1);
