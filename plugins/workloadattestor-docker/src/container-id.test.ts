import { describe, expect, it } from "vitest";
import { containerIdInPath } from "./container-id.js";

const A = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

describe("containerIdInPath, SPIRE's backwards walk over path segments", () => {
  it.each([
    ["cgroupfs driver", `/docker/${A}`],
    ["systemd driver", `/system.slice/docker-${A}.scope`],
    ["another cgroup namespace", `/../${A}`],
    ["containerd CRI", `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod6a7b8c9d_0e1f_4a2b_8c3d_4e5f6a7b8c9d.slice/cri-containerd-${A}.scope`],
    ["CRI-O", `/kubepods/burstable/pod6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d/crio-${A}`],
    ["podman, with a segment after the ID", `/machine.slice/libpod-${A}.scope/container`],
    ["pod UID and ID in one segment, colon-separated", `/kubepods/pod6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d:cri-containerd:${A}`],
    ["upper-case hex", `/docker/${A.toUpperCase()}`],
  ])("finds the ID: %s", (_name, path) => {
    expect(containerIdInPath(path).toLowerCase()).toBe(A);
  });

  it("takes the ID nearest the end (kind-in-docker: the inner container, not the node)", () => {
    const node = "f".repeat(64);
    expect(containerIdInPath(`/docker/${node}/kubepods/besteffort/pod1/${A}`)).toBe(A);
  });

  it.each([
    ["a host session", "/user.slice/user-1000.slice/session-3.scope"],
    ["the root", "/"],
    ["empty", ""],
    ["63 hex digits", `/docker/${A.slice(1)}`],
    ["65 hex digits (no word boundary after 64)", `/docker/${A}0`],
    ["hex inside a longer word", `/docker/x${A}`],
    ["a trailing slash ends the walk at once, as Go's path.Split loop does", `/docker/${A}/`],
    ["a doubled slash ends the walk", `/docker/${A}//init`],
  ])("finds none: %s", (_name, path) => {
    expect(containerIdInPath(path)).toBe("");
  });
});
