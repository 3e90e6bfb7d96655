/**
 * Go as a test tool: whether it is here, and building the programs under
 * test/e2e/go/ reproducibly (modules from the proxy exactly as the committed
 * go.sum pins them, the installed toolchain only). Without Go the Go tests
 * are left out with a reason, except in CI (CI=true), where that fails.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, existsSync, linkSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
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
 *
 * Test files run in parallel processes, and concurrent `go build`s of the same packages each compile
 * them (Go's cache does not share work in progress), so builds of one module take turns under a
 * lock file; and binaries built from the same go.mod, go.sum and toolchain are kept under
 * tmpdir() and hard-linked into later test files' goBuildDir, so a second test of a stock SPIRE
 * command neither compiles nor links it again.
 */
export function goBuild(module: string, pkgs: string[], timeoutMs = goBuildTimeoutMs): Promise<void> {
  const key = `${module}:${pkgs.join(",")}`;
  let p = builds.get(key);
  if (!p) {
    const start = Date.now();
    p = withBuildLock(module, start + timeoutMs, async () => {
      const shared = sharedBuildDir(module, pkgs);
      if (!existsSync(join(shared, ".complete"))) await runGoBuild(module, pkgs, shared, start + timeoutMs);
      for (const bin of readdirSync(shared)) if (bin !== ".complete") linkOrCopy(join(shared, bin), join(goBuildDir, bin));
    }).finally(() => (goBuildTimings[`go build ${module}`] = Date.now() - start));
    builds.set(key, p);
  }
  return p;
}

function linkOrCopy(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** Where binaries built from this module's pinned go.mod/go.sum, the installed Go and `pkgs` are kept. */
function sharedBuildDir(module: string, pkgs: string[]): string {
  const cwd = join(goDir, module);
  const hash = createHash("sha256").update(`${goVersion}\n${pkgs.join("\n")}\n`);
  for (const f of ["go.mod", "go.sum"]) hash.update(readFileSync(join(cwd, f)));
  return join(tmpdir(), `signet-go-${module}-${hash.digest("hex").slice(0, 16)}`);
}

function runGoBuild(module: string, pkgs: string[], shared: string, deadline: number): Promise<void> {
  const cwd = join(goDir, module);
  const pinned = () => ["go.mod", "go.sum"].map((f) => readFileSync(join(cwd, f), "utf8")).join("\n");
  const before = pinned();
  const out = mkdtempSync(`${shared}.building-`);
  return new Promise<void>((resolve, reject) => {
    execFile(
      "go",
      ["build", "-o", `${out}/`, ...pkgs],
      { cwd, env: goEnv(), timeout: Math.max(1, deadline - Date.now()), maxBuffer: 16 << 20 },
      (err, _stdout, stderr) => {
        if (err) reject(new Error(`go build in test/e2e/go/${module} failed: ${err.message}\n${stderr}`));
        // -mod=mod would quietly fill in a stale go.sum; the committed one must already be complete.
        else if (pinned() !== before) reject(new Error(`go build changed test/e2e/go/${module}/go.mod or go.sum: run \`go mod tidy\` there and commit both`));
        else {
          closeSync(openSync(join(out, ".complete"), "w"));
          rmSync(shared, { recursive: true, force: true });
          renameSync(out, shared);
          resolve();
          return;
        }
        rmSync(out, { recursive: true, force: true });
      },
    );
  });
}

/** Runs `fn` holding tmpdir()/signet-go-<module>.lock (taken over when its holder process is gone). */
async function withBuildLock<T>(module: string, deadline: number, fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `signet-go-${module}.lock`);
  for (;;) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!holderAlive(lock)) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for another test's go build of test/e2e/go/${module} (${lock})`);
      else await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function holderAlive(lock: string): boolean {
  let text: string;
  try {
    text = readFileSync(lock, "utf8");
    // Created but its pid not written yet, unless that was long ago (its holder died in between).
    if (text === "") return Date.now() - statSync(lock).mtimeMs < 10_000;
  } catch {
    return true; // just removed: look again
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The reason Go tests are left out here; throws in CI, where leaving them out is a failure. */
export function requireGoInCI(extra = ""): void {
  if (haveGo) return;
  const reason = "go is not on PATH, so the Go tests are left out";
  if (inCI) throw new Error(`${reason}. CI must have Go${extra ? ` ${extra}` : ""} and the Go module proxy.`);
  console.warn(`SKIPPED: ${reason}`);
}
