#!/usr/bin/env node
// Runs the whole suite with vitest and ends with one plain line,
// "tests: N passed, N failed, N skipped", that any CI can read.
// Extra arguments go to vitest (e.g. a path filter).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const report = join(root, ".tmp", "vitest-report.json");
mkdirSync(join(root, ".tmp"), { recursive: true });
rmSync(report, { force: true });

const run = spawnSync(
  join(root, "node_modules", ".bin", "vitest"),
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit" },
);

if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) {
    console.error("tests: no test ran");
    process.exit(1);
  }
}
process.exit(run.status ?? 1);
