/**
 * The new container locator over fixture proc roots (src/testing/proc, made
 * by make-fixtures.sh): one PID per cgroup layout.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { locateContainer, readCgroups } from "./container-locator.js";
import { procFs } from "./proc.js";

const proc = procFs(join(__dirname, "testing"));
const A = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const B = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const P = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const locate = async (pid: number) => (await locateContainer(proc, pid, { verbose: false })).containerId;

describe("locateContainer on fixture proc roots", () => {
  it.each([
    [1001, "Docker, cgroup v1, cgroupfs driver", A],
    [1002, "Docker, cgroup v1, systemd driver", A],
    [1003, "Docker, cgroup v2, systemd driver", A],
    [1004, "Docker, cgroup v2, cgroupfs driver", A],
    [1005, "Docker, cgroup v2, seen from another cgroup namespace", A],
    [1006, "cgroup file without an ID: mountinfo fallback (empty tmpfs source tolerated)", A],
    [1007, "cgroup file wins over a bind-mounted foreign cgroup in mountinfo", A],
    [1008, "containerd CRI, cgroup v2", A],
    [1009, "CRI-O, cgroup v1", A],
    [1010, "Podman rootful", P],
    [1011, "Podman rootless", P],
    [1012, "Podman, cgroup v1 cgroupfs", P],
    [1035, "hierarchies without an ID before the first ID", A],
  ])("pid %i: %s", async (pid, _name, id) => {
    expect(await locate(pid)).toBe(id);
  });

  it.each([
    [1020, "a host process, cgroup v2"],
    [1021, "a host process, hybrid v1"],
    [999_999, "a PID with no /proc entry (exited)"],
  ])("pid %i: %s is not in a container", async (pid) => {
    expect(await locate(pid)).toBe("");
  });

  it("answers as evidence the cgroup lines that named the container, or the whole cgroup file when mountinfo did", async () => {
    const evidence = async (pid: number) => (await locateContainer(proc, pid, { verbose: false })).evidence.map((c) => `${c.hierarchyId}:${c.groupPath}`);
    expect(await evidence(1035)).toEqual([`1:/docker/${A}`]);
    expect(await evidence(1001)).toHaveLength(12);
    expect(await evidence(1006)).toEqual(["0:/"]);
    expect(await evidence(1043)).toEqual(["0:/user.slice/user-1000.slice/session-3.scope"]);
    expect(await evidence(1020)).toEqual([]);
  });

  it("fails Internal on a malformed cgroup file", async () => {
    await expect(locate(1030)).rejects.toMatchObject({
      kind: "internal",
      message: 'unable to obtain cgroups: invalid cgroup entry, contains 1 colon separated fields but expected at least 3: "not a cgroup line"',
    });
  });

  it("fails Internal on a malformed mountinfo when it has to read it", async () => {
    await expect(locate(1031)).rejects.toMatchObject({
      kind: "internal",
      message: `failed to parse mount info at "${proc.mountinfoPath(1031)}": missing separator in mountinfo line: 1543 1542 0:32 / /sys/fs/cgroup ro`,
    });
  });

  it("fails FailedPrecondition when the entries name two containers", async () => {
    await expect(locate(1032)).rejects.toMatchObject({ kind: "failed-precondition", message: `multiple container IDs found ("${A}", "${B}")` });
    await expect(locate(1034)).rejects.toMatchObject({ kind: "failed-precondition", message: `multiple container IDs found ("${A}", "${B}")` });
  });

  it("treats an ID followed by a hierarchy without one as a conflict, as SPIRE does", async () => {
    await expect(locate(1033)).rejects.toMatchObject({ kind: "failed-precondition", message: `multiple container IDs found ("${A}", "")` });
  });

  it("fails Internal, not a crash, when the proc file is unreadable or too large", async () => {
    const unreadable = { ...proc, read: () => Promise.reject(Object.assign(new Error("EACCES: permission denied, open '/proc/7/cgroup'"), { code: "EACCES", syscall: "open", path: "/proc/7/cgroup" })) };
    await expect(locateContainer(unreadable, 7, { verbose: false })).rejects.toMatchObject({
      kind: "internal",
      message: "unable to obtain cgroups: open /proc/7/cgroup: permission denied",
    });
    const tiny = procFs(join(__dirname, "testing"), 100);
    await expect(locateContainer(tiny, 1001, { verbose: false })).rejects.toMatchObject({ kind: "internal", message: /file is larger than 100 bytes/ });
  });

  it("logs what it enumerated when verbose", async () => {
    const lines: string[] = [];
    const log = { debug: (m: string, f?: object) => lines.push(`${m} ${JSON.stringify(f)}`) } as never;
    await locateContainer(proc, 1006, { verbose: true, log });
    expect(lines.some((l) => l.startsWith("PID cgroup enumerated") && l.includes('"path":"/"'))).toBe(true);
    expect(lines.filter((l) => l.startsWith("PID mount enumerated"))).toHaveLength(3);
  });

  it("readCgroups: undefined for a missing file", async () => {
    expect(await readCgroups(proc, 999_999)).toBeUndefined();
    expect(await readCgroups(proc, 1003)).toEqual([{ hierarchyId: "0", controllerList: "", groupPath: `/system.slice/docker-${A}.scope` }]);
  });
});
