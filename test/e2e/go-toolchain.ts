/**
 * Go as a test tool: whether it is here, and building the programs under
 * test/e2e/go/ reproducibly (modules from the proxy exactly as the committed
 * go.sum pins them, the installed toolchain only). Without Go the Go tests
 * are left out with a reason, except in CI (CI=true), where that fails.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const goDir = join(__dirname, "go");
export const inCI = process.env.CI === "true";
export const goVersion = (() => {
  const r = spawnSync("go", ["version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();
export const haveGo = goVersion !== undefined;
export const goBuildTimeoutMs = 300_000;

/** Where this test file's Go binaries go (empty without Go). */
export const goBuildDir = haveGo ? mkdtempSync(join(tmpdir(), "signet-go-")) : "";
/** Milliseconds each build took, for the tests' timing reports. */
export const goBuildTimings: Record<string, number> = {};

/** Env for `go build`: modules from the proxy per the committed go.sum, the installed toolchain only. */
export function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOFLAGS: "-mod=mod -buildvcs=false", GOTOOLCHAIN: "local" };
}

const builds = new Map<string, Promise<void>>();

/**
 * `go build -o <goBuildDir>/ <pkgs…>` in test/e2e/go/<module>, once per test file. A large program
 * (a whole stock SPIRE binary) may need a longer `timeoutMs` when Go's build cache is cold.
 */
export function goBuild(module: string, pkgs: string[], timeoutMs = goBuildTimeoutMs): Promise<void> {
  const key = `${module}:${pkgs.join(",")}`;
  let p = builds.get(key);
  if (!p) {
    const start = Date.now();
    const cwd = join(goDir, module);
    const pinned = () => ["go.mod", "go.sum"].map((f) => readFileSync(join(cwd, f), "utf8")).join("\n");
    const before = pinned();
    p = new Promise<void>((resolve, reject) => {
      execFile(
        "go",
        ["build", "-o", `${goBuildDir}/`, ...pkgs],
        { cwd, env: goEnv(), timeout: timeoutMs, maxBuffer: 16 << 20 },
        (err, _stdout, stderr) => {
          goBuildTimings[`go build ${module}`] = Date.now() - start;
          if (err) reject(new Error(`go build in test/e2e/go/${module} failed: ${err.message}\n${stderr}`));
          // -mod=mod would quietly fill in a stale go.sum; the committed one must already be complete.
          else if (pinned() !== before) reject(new Error(`go build changed test/e2e/go/${module}/go.mod or go.sum: run \`go mod tidy\` there and commit both`));
          else resolve();
        },
      );
    });
    builds.set(key, p);
  }
  return p;
}

/** The reason Go tests are left out here; throws in CI, where leaving them out is a failure. */
export function requireGoInCI(extra = ""): void {
  if (haveGo) return;
  const reason = "go is not on PATH, so the Go tests are left out";
  if (inCI) throw new Error(`${reason}. CI must have Go${extra ? ` ${extra}` : ""} and the Go module proxy.`);
  console.warn(`SKIPPED: ${reason}`);
}
