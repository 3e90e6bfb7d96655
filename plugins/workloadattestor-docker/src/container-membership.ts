/**
 * Is the workload really in the container its cgroup path names? The
 * locator takes the container ID from a path, and a path is only a name: on
 * cgroup v2 with systemd, an unprivileged user owns a delegated subtree
 * (`/user.slice/user-1000.slice/user@1000.service/…`) and can create a
 * cgroup called `<someone else's container ID>` or `evil-<id>.scope`, move
 * into it, and be named as that container. SPIRE's docker attestor stops at
 * the name; this check does not.
 *
 * The engine tells us the container's init process (`State.Pid`), and the
 * kernel tells us, from the same viewpoint, the cgroups of both processes.
 * The container's cgroup is the init process's path on that hierarchy, cut
 * after the deepest segment that names the container when there is one
 * (a container running systemd moves its init into `<container>/init.scope`
 * and its services into `<container>/system.slice/…`). Every workload path
 * that named the container must be that cgroup or lie below it, compared
 * segment by segment (`/a/b` is not below `/a/bc`). `docker exec` processes
 * join the init's cgroups, so they pass; a look-alike elsewhere does not.
 *
 * Pure: the caller reads /proc and the engine.
 */
import { PluginError } from "@signet/plugin-sdk";
import type { Cgroup } from "./cgroups.js";
import { containerIdInPath } from "./container-id.js";
import { goQuote } from "./errors.js";

export interface MembershipClaim {
  readonly containerId: string;
  /** `State.Pid` from the engine. */
  readonly initPid: number;
  /** The workload's cgroups to hold against the container (the ones that named it, see the locator). */
  readonly workload: readonly Cgroup[];
  /** The init process's cgroups, read from the same proc root. */
  readonly init: readonly Cgroup[];
}

/** Throws PermissionDenied unless every workload cgroup is inside the container's cgroup on its hierarchy. */
export function verifyMembership(claim: MembershipClaim): void {
  const { containerId, initPid } = claim;
  if (claim.workload.length === 0) {
    throw new PluginError("permission-denied", `cannot verify that the workload is in container ${goQuote(containerId)}: it has no cgroup to compare`);
  }
  for (const cgroup of claim.workload) {
    const initCgroup = claim.init.find((c) => c.hierarchyId === cgroup.hierarchyId);
    if (initCgroup === undefined) {
      throw new PluginError(
        "permission-denied",
        `workload is not in container ${goQuote(containerId)}: its cgroup ${goQuote(cgroup.groupPath)} is on hierarchy ${hierarchyName(cgroup)}, where the container's init process (PID ${initPid}) has no cgroup`,
      );
    }
    const containerCgroup = containerCgroupOf(initCgroup.groupPath, containerId);
    if (!isSameOrBelow(cgroup.groupPath, containerCgroup)) {
      throw new PluginError(
        "permission-denied",
        `workload is not in container ${goQuote(containerId)}: its cgroup ${goQuote(cgroup.groupPath)} on hierarchy ${hierarchyName(cgroup)} ` +
          `is neither the container's cgroup ${goQuote(containerCgroup)} (from its init process, PID ${initPid}, in ${goQuote(initCgroup.groupPath)}) nor below it`,
      );
    }
  }
}

/**
 * The container's cgroup seen from its init process's path: the path up to
 * and including the deepest segment whose ID is `containerId`; the whole
 * path when no segment names it (a private cgroup namespace seen from
 * inside, where the container is "/").
 */
export function containerCgroupOf(initPath: string, containerId: string): string {
  const segments = initPath.split("/");
  for (let end = segments.length; end > 0; end--) {
    if (containerIdInPath(segments[end - 1]!) === containerId) return segments.slice(0, end).join("/");
  }
  return initPath;
}

/** `path` is `ancestor` or inside it, segment by segment: "/a/b/c" is below "/a/b", "/a/bc" is not. */
export function isSameOrBelow(path: string, ancestor: string): boolean {
  if (path === ancestor) return true;
  const prefix = ancestor.endsWith("/") ? ancestor : `${ancestor}/`;
  return path.startsWith(prefix);
}

function hierarchyName(cgroup: Cgroup): string {
  return cgroup.controllerList === "" ? cgroup.hierarchyId : `${cgroup.hierarchyId} (${cgroup.controllerList})`;
}
