#!/usr/bin/env node
// The project's static checks, in the order a failure is cheapest to read:
// layering (dependency-cruiser), types including test files, proto lint, and
// whether proto/gen matches proto/defs.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;
const steps = [
  ["layers", bin("depcruise"), ["--config", ".dependency-cruiser.cjs", "--output-type", "err", "proto", "config", "plugin-protocol", "spiffe", "plugin-sdk", "host", "plugins"]],
  ["types", bin("tsc"), ["-p", "tsconfig.check.json"]],
  ["proto lint", bin("buf"), ["lint"], { cwd: `${root}proto` }],
  ["proto freshness", process.execPath, ["scripts/gen-proto.mjs", "--check"]],
];

let failed = 0;
for (const [name, cmd, args, opts] of steps) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
  if (r.status !== 0) {
    failed++;
    console.error(`lint: ${name} failed`);
  } else {
    console.log(`lint: ${name} ok`);
  }
}
process.exit(failed === 0 ? 0 : 1);
