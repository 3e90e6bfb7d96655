import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UnixAttestor } from "./attestor.js";
import type { Settings } from "./config.js";
import { etcNames } from "./names.js";
import { procFs } from "./proc.js";

const ids: Settings = { discoverWorkloadPath: false, workloadSizeLimit: 0 };
const withPath: Settings = { discoverWorkloadPath: true, workloadSizeLimit: 0 };
const sleepBinary = realpathSync(spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim());
const isRoot = process.geteuid?.() === 0;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** A running `sleep` (or another binary) whose PID the tests attest. */
async function startSleep(file = sleepBinary, options: { uid?: number; gid?: number } = {}): Promise<number> {
  const child = spawn(file, ["60"], { stdio: "ignore", ...options });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  return child.pid!;
}

const sha256Of = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");
const idText = (...args: string[]) => spawnSync("id", args, { encoding: "utf8" }).stdout.trim();

describe("UnixAttestor against the real /proc", () => {
  it("attests the test process itself: effective uid/gid, their names, its supplementary groups", async () => {
    const values = await new UnixAttestor(ids).attest(process.pid);
    const supplementary = values.filter((v) => v.startsWith("supplementary_gid:")).map((v) => Number(v.split(":")[1]));
    expect(values.slice(0, 4)).toEqual([`uid:${idText("-u")}`, `user:${idText("-un")}`, `gid:${idText("-g")}`, `group:${idText("-gn")}`]);
    // Node's getgroups() is the supplementary list plus the effective gid.
    expect(new Set([...supplementary, process.getegid!()])).toEqual(new Set(process.getgroups!()));
    expect(values.some((v) => v.startsWith("path:") || v.startsWith("sha256:"))).toBe(false);
  });

  it("attests a spawned sleep, with its path and the sha256 of its binary", async () => {
    const pid = await startSleep();
    const values = await new UnixAttestor(withPath).attest(pid);
    expect(values).toContain(`uid:${process.geteuid!()}`);
    expect(values.slice(-2)).toEqual([`path:${sleepBinary}`, `sha256:${await sha256Of(sleepBinary)}`]);
  });

  it("attests a child running under another user with that user's selectors", async () => {
    if (!isRoot) {
      // Only root may start a process as someone else; everyone else is refused by the kernel.
      await expect(startSleep(sleepBinary, { uid: 65534, gid: 65534 })).rejects.toThrow(/EPERM/);
      return;
    }
    const pid = await startSleep(sleepBinary, { uid: 65534, gid: 65534 });
    const mine = await new UnixAttestor(ids).attest(process.pid);
    const theirs = await new UnixAttestor(ids).attest(pid);
    const names = await etcNames()();
    const expected = ["uid:65534", ...(names.userName("65534") ? [`user:${names.userName("65534")}`] : [])];
    expected.push("gid:65534", ...(names.groupName("65534") ? [`group:${names.groupName("65534")}`] : []));
    // libuv drops supplementary groups when it changes the user.
    expect(theirs).toEqual(expected);
    expect(theirs.find((v) => v.startsWith("uid:"))).not.toEqual(mine.find((v) => v.startsWith("uid:")));
  });

  it("fails with SPIRE's message for a PID that has exited, and refuses PIDs that cannot exist", async () => {
    const child = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    const attestor = new UnixAttestor(ids);
    await expect(attestor.attest(child.pid!)).rejects.toMatchObject({ kind: "internal", message: "failed to get process: process does not exist" });
    await expect(attestor.attest(0)).rejects.toMatchObject({ kind: "invalid-argument", message: "failed to get process: invalid pid 0" });
    await expect(attestor.attest(-1)).rejects.toMatchObject({ kind: "invalid-argument" });
  });

  it("applies workload_size_limit: 0 = any size, > 0 = refuse bigger binaries, < 0 = never hash", async () => {
    const pid = await startSleep();
    const size = (await stat(sleepBinary)).size;
    const attest = (workloadSizeLimit: number) => new UnixAttestor({ discoverWorkloadPath: true, workloadSizeLimit }).attest(pid);
    const digest = `sha256:${await sha256Of(sleepBinary)}`;
    expect(await attest(0)).toContain(digest);
    expect(await attest(size)).toContain(digest);
    await expect(attest(size - 1)).rejects.toMatchObject({
      kind: "internal",
      message: `SHA256 digest: workload /proc/${pid}/exe exceeds size limit (${size} > ${size - 1})`,
    });
    const unhashed = await attest(-1);
    expect(unhashed.at(-1)).toBe(`path:${sleepBinary}`);
    expect(unhashed.some((v) => v.startsWith("sha256:"))).toBe(false);
  });

  it("hashes the running binary through /proc/<pid>/exe even after its file is gone (as for a container's binary)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "unix-exe-"));
    try {
      const copy = join(dir, "sleep-copy");
      await copyFile(sleepBinary, copy);
      const pid = await startSleep(copy, {});
      await rm(copy);
      const values = await new UnixAttestor(withPath).attest(pid);
      expect(values.slice(-2)).toEqual([`path:${copy} (deleted)`, `sha256:${await sha256Of(sleepBinary)}`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("UnixAttestor against a procfs and /etc of our making (HOST_PROC, odd status files)", () => {
  let root: string;
  const attestor = (settings: Settings) => new UnixAttestor(settings, { proc: procFs(join(root, "proc")), names: etcNames(join(root, "etc")) });
  const fakeProcess = async (pid: number, status: string, exe?: string) => {
    await mkdir(join(root, "proc", String(pid)), { recursive: true });
    await writeFile(join(root, "proc", String(pid), "status"), status);
    if (exe) await symlink(exe, join(root, "proc", String(pid), "exe"));
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "unix-proc-"));
    await mkdir(join(root, "etc"));
    await writeFile(join(root, "etc", "passwd"), "u1000:x:1000:1000::/home/u1000:/bin/sh\nu1100:x:1100:1100::/:/bin/sh\n");
    await writeFile(join(root, "etc", "group"), "g2000:x:2000:\ng2100:x:2100:\ng2200:x:2200:u1000\n");
    await writeFile(join(root, "exe"), "data");
    await fakeProcess(7, "Uid:\t1000\t1100\t1000\t1000\nGid:\t2000\t2100\t2000\t2000\nGroups:\t2000 2200 2300\n", join(root, "exe"));
    await fakeProcess(8, "Uid:\t1999\nGid:\t2999\n");
    await fakeProcess(9, "Name:\tno ids\n");
    await fakeProcess(10, "Uid:\t1000\t1000\t1000\t1000\nGid:\t\n");
    await fakeProcess(11, "Uid:\t1000\t1000\t1000\t1000\nGid:\t2000\t2000\t2000\t2000\n", join(root, "missing-exe"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("answers effective IDs, names where known, supplementary groups in order, then path and digest", async () => {
    expect(await attestor(withPath).attest(7)).toEqual([
      "uid:1100",
      "user:u1100",
      "gid:2100",
      "group:g2100",
      "supplementary_gid:2000",
      "supplementary_group:g2000",
      "supplementary_gid:2200",
      "supplementary_group:g2200",
      "supplementary_gid:2300",
      `path:${join(root, "exe")}`,
      // sha256("data"), the digest SPIRE's own tests expect for this content
      "sha256:3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7",
    ]);
    expect(await attestor(ids).attest(8)).toEqual(["uid:1999", "gid:2999"]);
  });

  it("fails with SPIRE's messages when the status or exe cannot be read", async () => {
    await expect(attestor(ids).attest(9)).rejects.toMatchObject({ kind: "internal", message: "UIDs lookup: no UIDs for process" });
    await expect(attestor(ids).attest(10)).rejects.toMatchObject({ kind: "internal", message: "GIDs lookup: no GIDs for process" });
    await expect(attestor(withPath).attest(8)).rejects.toMatchObject({
      kind: "internal",
      message: `path lookup: readlink ${join(root, "proc", "8", "exe")}: no such file or directory`,
    });
    await expect(attestor(withPath).attest(11)).rejects.toMatchObject({
      kind: "internal",
      message: `SHA256 digest: open ${join(root, "proc", "11", "exe")}: no such file or directory`,
    });
    await expect(attestor({ discoverWorkloadPath: true, workloadSizeLimit: 2 }).attest(7)).rejects.toMatchObject({
      message: `SHA256 digest: workload ${join(root, "proc", "7", "exe")} exceeds size limit (4 > 2)`,
    });
    await expect(attestor(ids).attest(12)).rejects.toMatchObject({ message: "failed to get process: process does not exist" });
  });
});
