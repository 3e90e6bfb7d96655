#!/usr/bin/env node
// Regenerates proto/gen/ from proto/defs/ with buf (binary shipped in the
// @bufbuild/buf npm package) and ts-proto, fully offline.
// With --check, generates into a scratch copy and fails if proto/gen/ differs,
// so CI catches hand edits and forgotten regenerations.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const protoDir = join(root, "proto");
const buf = join(root, "node_modules", ".bin", "buf");
const check = process.argv.includes("--check");

function generate(dir) {
  execFileSync(buf, ["generate"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else out.push(relative(base, p));
  }
  return out.sort();
}

if (!check) {
  generate(protoDir);
  console.log(`proto: generated ${listFiles(join(protoDir, "gen")).length} files into proto/gen`);
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), "signet-proto-"));
try {
  cpSync(join(protoDir, "defs"), join(scratch, "defs"), { recursive: true });
  cpSync(join(protoDir, "buf.yaml"), join(scratch, "buf.yaml"));
  const genYaml = readFileSync(join(protoDir, "buf.gen.yaml"), "utf8").replace(
    "../node_modules/ts-proto/protoc-gen-ts_proto",
    join(root, "node_modules/ts-proto/protoc-gen-ts_proto"),
  );
  cpSync(join(protoDir, "buf.gen.yaml"), join(scratch, "buf.gen.yaml"));
  await import("node:fs").then((fs) => fs.writeFileSync(join(scratch, "buf.gen.yaml"), genYaml));
  generate(scratch);
  const want = listFiles(join(scratch, "gen"));
  const have = listFiles(join(protoDir, "gen"));
  const stale = [];
  for (const f of new Set([...want, ...have])) {
    const a = want.includes(f) ? readFileSync(join(scratch, "gen", f), "utf8") : null;
    const b = have.includes(f) ? readFileSync(join(protoDir, "gen", f), "utf8") : null;
    if (a !== b) stale.push(f);
  }
  if (stale.length > 0) {
    console.error(`proto: proto/gen is stale; run \`npm run proto\` and commit. Differs: ${stale.join(", ")}`);
    process.exit(1);
  }
  console.log(`proto: proto/gen is up to date (${want.length} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
