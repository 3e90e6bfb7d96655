/**
 * The container ID inside one cgroup path or mount root, the way SPIRE's
 * container locator finds it: walk the "/"-separated segments from the last
 * one backwards and take the first 64-hex-digit word. That covers every
 * runtime's naming without knowing it:
 *
 *   /docker/<id>                                   cgroupfs driver (v1 and v2)
 *   /system.slice/docker-<id>.scope                systemd driver
 *   /../<id>                                       root seen from another cgroup namespace
 *   /kubepods/.../cri-containerd-<id>.scope        containerd (CRI), also crio-<id>.scope
 *   /machine.slice/libpod-<id>.scope/container     podman (rootful and rootless)
 *
 * An empty segment (a trailing or doubled "/") ends the walk, as Go's
 * path.Split loop in SPIRE does.
 */

// \b is ASCII in both Go and JavaScript (no "u" flag here), so the match is the same.
const containerIdPattern = /\b([0-9A-Fa-f]{64})\b/;

/** The container ID in `cgroupPathOrMountRoot`, or "" when it has none. */
export function containerIdInPath(cgroupPathOrMountRoot: string): string {
  let rest = cgroupPathOrMountRoot;
  for (;;) {
    const slash = rest.lastIndexOf("/");
    const segment = rest.slice(slash + 1);
    if (segment === "") return "";
    const match = containerIdPattern.exec(segment);
    if (match) return match[1]!;
    // Go: path.Split, then drop the one trailing slash of the directory part.
    rest = slash < 0 ? "" : rest.slice(0, slash);
  }
}
