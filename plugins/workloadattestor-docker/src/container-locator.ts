/**
 * SPIRE's "new container locator" (its default since `use_new_container_locator`
 * defaults to true): the container ID of a PID from /proc/<pid>/cgroup, and
 * only when that file names none, from the cgroup mounts of
 * /proc/<pid>/mountinfo. The cgroup file comes first because the kernel
 * writes it; mountinfo belongs to the workload's mount namespace, which a
 * workload can fill with a bind-mounted foreign cgroup to impersonate
 * another container.
 *
 * A PID with neither file (exited, or never existed) is "not a container":
 * no ID, no error.
 *
 * Besides the ID it answers the evidence the membership check
 * (container-membership.ts) holds against the container: the cgroup lines
 * that named it, or, when mountinfo named it, every line of the cgroup file
 * (the kernel's word on where the process is; mount roots are not compared,
 * the workload controls its mount namespace and they are written from the
 * mounter's cgroup namespace).
 */
import { type Logger, PluginError, goErrorText } from "@signet/plugin-sdk";
import { type Cgroup, parseCgroups } from "./cgroups.js";
import { containerIdInPath } from "./container-id.js";
import { goQuote, isNotExist } from "./errors.js";
import { parseMountInfo } from "./mountinfo.js";
import type { ProcFs } from "./proc.js";

export interface LocatorOptions {
  readonly verbose: boolean;
  readonly log?: Logger;
}

export interface ContainerLocation {
  /** "" when the process is not in a container. */
  readonly containerId: string;
  /** The process's cgroups to check against the container's (see above); empty when there is no container. */
  readonly evidence: readonly Cgroup[];
}

/** The container of `pid`, with the cgroups that put it there. */
export async function locateContainer(proc: ProcFs, pid: number, options: LocatorOptions): Promise<ContainerLocation> {
  const cgroups = (await readCgroups(proc, pid)) ?? [];
  const fromCgroups = fromCgroupFile(cgroups, options);
  if (fromCgroups !== "") return { containerId: fromCgroups, evidence: cgroups.filter((c) => containerIdInPath(c.groupPath) === fromCgroups) };
  const fromMounts = await fromMountInfo(proc, pid, options);
  return { containerId: fromMounts, evidence: fromMounts === "" ? [] : cgroups };
}

/** The cgroups of `pid`; undefined when the file does not exist. Errors are the locator's (Internal). */
export async function readCgroups(proc: ProcFs, pid: number): Promise<Cgroup[] | undefined> {
  let text: string;
  try {
    text = await proc.read(proc.cgroupPath(pid));
  } catch (e) {
    if (isNotExist(e)) return undefined;
    throw new PluginError("internal", `unable to obtain cgroups: ${goErrorText(e)}`);
  }
  try {
    return parseCgroups(text);
  } catch (e) {
    throw new PluginError("internal", `unable to obtain cgroups: ${(e as Error).message}`);
  }
}

function fromCgroupFile(cgroups: readonly Cgroup[], options: LocatorOptions): string {
  if (options.verbose) {
    cgroups.forEach((cgroup, i) => options.log?.debug("PID cgroup enumerated", { index: i + 1, total: cgroups.length, path: cgroup.groupPath }));
  }
  const found = new Agreement();
  for (const cgroup of cgroups) found.add(containerIdInPath(cgroup.groupPath), { cgroup_path: cgroup.groupPath }, options.log);
  return found.containerId;
}

async function fromMountInfo(proc: ProcFs, pid: number, options: LocatorOptions): Promise<string> {
  const path = proc.mountinfoPath(pid);
  let mounts;
  try {
    mounts = parseMountInfo(await proc.read(path));
  } catch (e) {
    if (isNotExist(e)) return "";
    throw new PluginError("internal", `failed to parse mount info at ${goQuote(path)}: ${goErrorText(e)}`);
  }
  if (options.verbose) {
    mounts.forEach((mount, i) => options.log?.debug("PID mount enumerated", { index: i + 1, total: mounts.length, type: mount.fsType, root: mount.root }));
  }
  const found = new Agreement();
  for (const mount of mounts) {
    // A container that mounts the whole cgroup tree has root "/": nothing to learn from it.
    if ((mount.fsType !== "cgroup" && mount.fsType !== "cgroup2") || mount.root === "/") continue;
    found.add(containerIdInPath(mount.root), { mount_info_root: mount.root }, options.log);
  }
  return found.containerId;
}

/**
 * Every entry after the first that names a container must name the same
 * one, or there is no safe answer. As in SPIRE, an entry without an ID
 * after one with an ID also disagrees (FailedPrecondition
 * `multiple container IDs found ("<id>", "")`); entries without an ID
 * before the first ID are ignored.
 */
class Agreement {
  containerId = "";

  add(candidate: string, where: Readonly<Record<string, string>>, log: Logger | undefined): void {
    if (this.containerId !== "" && candidate !== this.containerId) {
      log?.debug("Workload container ID conflict", { ...where, previous: this.containerId, current: candidate });
      throw new PluginError("failed-precondition", `multiple container IDs found (${goQuote(this.containerId)}, ${goQuote(candidate)})`);
    }
    this.containerId = candidate;
  }
}
