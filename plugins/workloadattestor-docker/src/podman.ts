/**
 * Which API socket serves a container, as SPIRE decides it from the cgroup
 * path: a Podman cgroup (`libpod-<id>.scope` or `/libpod/`) under a user
 * slice (`/user-<uid>.slice/`) is rootless Podman, reached at
 * `podman_socket_path_template` with the UID in place of `%d`; a Podman
 * cgroup without one is rootful Podman at `podman_socket_path`; anything
 * else is Docker at `docker_socket_path`. Podman serves the Docker-compatible
 * API on those sockets, so the same client speaks to all three.
 */
import type { Logger } from "@signet/plugin-sdk";
import type { Cgroup } from "./cgroups.js";

const podmanCgroup = /(?:libpod-|\/libpod\/)/;
const userSliceUid = /\/user-(\d+)\.slice\//;

export interface PodmanSockets {
  /** `podman_socket_path`. */
  readonly rootful: string;
  /** `podman_socket_path_template`, validated by validatePodmanTemplate. */
  readonly rootlessTemplate: string;
}

/** The Podman socket for these cgroups, or undefined for Docker. */
export function podmanSocketFor(cgroups: readonly Cgroup[], sockets: PodmanSockets, log?: Logger): string | undefined {
  for (const cgroup of cgroups) {
    if (!podmanCgroup.test(cgroup.groupPath)) continue;
    const uid = userSliceUid.exec(cgroup.groupPath)?.[1];
    if (uid !== undefined) {
      // Go's ParseUint(…, 10, 32): anything above 2^32-1 is refused, not wrapped.
      if (Number(uid) <= 0xffff_ffff) return formatTemplate(sockets.rootlessTemplate, Number(uid));
      log?.warn("Failed to parse rootless Podman UID from cgroup path, falling back to rootful Podman socket", { uid, cgroup_path: cgroup.groupPath });
    }
    return sockets.rootful;
  }
  return undefined;
}

/** Exactly one `%d`; `%%` is a literal percent; any other `%` is refused. Returns the problem, or undefined. */
export function validatePodmanTemplate(template: string): string | undefined {
  let placeholders = 0;
  for (let i = 0; i < template.length; i++) {
    if (template[i] !== "%") continue;
    const next = template[i + 1];
    if (next === undefined) return "trailing % at end of template";
    if (next === "d") placeholders++;
    else if (next !== "%") return "template only supports escaped %% or the %d UID placeholder";
    i++;
  }
  return placeholders === 1 ? undefined : "template must contain exactly one %d UID placeholder";
}

/** Go's Sprintf for a validated template: `%d` becomes the UID, `%%` a percent sign. */
export function formatTemplate(template: string, uid: number): string {
  return template.replace(/%[%d]/g, (token) => (token === "%%" ? "%" : String(uid)));
}
