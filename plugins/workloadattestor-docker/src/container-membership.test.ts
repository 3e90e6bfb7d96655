/**
 * The membership rule on its own: workload cgroups against the container's
 * cgroup taken from its init process, segment by segment, per hierarchy.
 */
import { describe, expect, it } from "vitest";
import type { Cgroup } from "./cgroups.js";
import { containerCgroupOf, isSameOrBelow, verifyMembership } from "./container-membership.js";

const A = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const B = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const v2 = (groupPath: string): Cgroup => ({ hierarchyId: "0", controllerList: "", groupPath });
const v1 = (hierarchyId: string, controllerList: string, groupPath: string): Cgroup => ({ hierarchyId, controllerList, groupPath });
const verify = (workload: Cgroup[], init: Cgroup[]) => () => verifyMembership({ containerId: A, initPid: 4242, workload, init });

describe("isSameOrBelow: path segments, not string prefixes", () => {
  it.each([
    ["/a/b", "/a/b", true],
    ["/a/b/c", "/a/b", true],
    ["/a/b/c/d", "/a/b", true],
    ["/a/bc", "/a/b", false],
    ["/a/b.scope", "/a/b", false],
    ["/a", "/a/b", false],
    ["/x/a/b", "/a/b", false],
    ["/anything", "/", true],
    ["/../" + A + "/sub", "/../" + A, true],
  ])("%s below %s: %s", (path, ancestor, expected) => {
    expect(isSameOrBelow(path, ancestor)).toBe(expected);
  });
});

describe("containerCgroupOf: the init's path, cut after the deepest segment naming the container", () => {
  it.each([
    [`/docker/${A}`, `/docker/${A}`],
    [`/system.slice/docker-${A}.scope/init.scope`, `/system.slice/docker-${A}.scope`],
    [`/machine.slice/libpod-${A}.scope/container`, `/machine.slice/libpod-${A}.scope`],
    [`/docker/${A}/docker/${B}`, `/docker/${A}`],
    [`/docker/${A}/x/${A}/y`, `/docker/${A}/x/${A}`],
    ["/", "/"],
    [`/docker/${B}`, `/docker/${B}`],
  ])("%s → %s", (initPath, expected) => {
    expect(containerCgroupOf(initPath, A)).toBe(expected);
  });
});

describe("verifyMembership", () => {
  it("passes a workload in the init's cgroup or below the container's, on every hierarchy given", () => {
    expect(verify([v2(`/system.slice/docker-${A}.scope`)], [v2(`/system.slice/docker-${A}.scope`)])).not.toThrow();
    expect(verify([v2(`/system.slice/docker-${A}.scope/system.slice/a.service`)], [v2(`/system.slice/docker-${A}.scope/init.scope`)])).not.toThrow();
    expect(verify([v1("2", "cpu", `/docker/${A}`), v1("1", "name=systemd", `/docker/${A}/x`)], [v1("1", "name=systemd", `/docker/${A}`), v1("2", "cpu", `/docker/${A}`)])).not.toThrow();
    expect(verify([v2("/")], [v2("/")])).not.toThrow();
  });

  it("refuses a look-alike cgroup elsewhere, naming the container, both paths and the init PID", () => {
    const spoof = `/user.slice/user-1000.slice/user@1000.service/app.slice/docker-${A}.scope`;
    expect(verify([v2(spoof)], [v2(`/system.slice/docker-${A}.scope`)])).toThrow(
      expect.objectContaining({
        kind: "permission-denied",
        message: `workload is not in container "${A}": its cgroup "${spoof}" on hierarchy 0 is neither the container's cgroup "/system.slice/docker-${A}.scope" (from its init process, PID 4242, in "/system.slice/docker-${A}.scope") nor below it`,
      }),
    );
  });

  it("refuses a sibling whose name only starts like the container's cgroup", () => {
    expect(verify([v2(`/docker/${A}x`)], [v2(`/docker/${A}`)])).toThrow(/is neither the container's cgroup/);
    expect(verify([v2("/system.slice")], [v2(`/system.slice/docker-${A}.scope`)])).toThrow(/is neither/);
  });

  it("refuses a workload in the root of a cgroup namespace when the container is below it", () => {
    expect(verify([v2("/")], [v2(`/system.slice/docker-${A}.scope`)])).toThrow(/its cgroup "\/" on hierarchy 0 is neither/);
  });

  it("compares each hierarchy with the same hierarchy of the init, and refuses one the init is not on", () => {
    expect(verify([v1("2", "cpu", `/docker/${A}`)], [v1("1", "name=systemd", `/docker/${A}`), v1("2", "cpu", "/elsewhere")])).toThrow(
      /on hierarchy 2 \(cpu\) is neither the container's cgroup "\/elsewhere"/,
    );
    expect(verify([v1("5", "cpuset", `/docker/${A}`)], [v1("1", "name=systemd", `/docker/${A}`)])).toThrow(
      expect.objectContaining({ kind: "permission-denied", message: `workload is not in container "${A}": its cgroup "/docker/${A}" is on hierarchy 5 (cpuset), where the container's init process (PID 4242) has no cgroup` }),
    );
  });

  it("refuses when there is nothing to compare", () => {
    expect(verify([], [v2("/")])).toThrow(expect.objectContaining({ kind: "permission-denied", message: `cannot verify that the workload is in container "${A}": it has no cgroup to compare` }));
  });
});
