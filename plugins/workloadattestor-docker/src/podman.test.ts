import { describe, expect, it } from "vitest";
import { parseCgroups } from "./cgroups.js";
import { formatTemplate, podmanSocketFor, validatePodmanTemplate } from "./podman.js";

const sockets = { rootful: "unix:///run/podman/podman.sock", rootlessTemplate: "unix:///run/user/%d/podman/podman.sock" };
const P = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

describe("podmanSocketFor", () => {
  it("rootless Podman: the template with the user slice's UID", () => {
    const cgroups = parseCgroups(`0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${P}.scope/container\n`);
    expect(podmanSocketFor(cgroups, sockets)).toBe("unix:///run/user/1000/podman/podman.sock");
  });

  it("rootful Podman: podman_socket_path (systemd and cgroupfs shapes)", () => {
    expect(podmanSocketFor(parseCgroups(`0::/machine.slice/libpod-${P}.scope/container\n`), sockets)).toBe(sockets.rootful);
    expect(podmanSocketFor(parseCgroups(`1:name=systemd:/libpod_parent/libpod-${P}\n`), sockets)).toBe(sockets.rootful);
    expect(podmanSocketFor(parseCgroups(`0::/machine.slice/x/libpod/${P}\n`), sockets)).toBe(sockets.rootful);
  });

  it("Docker and others: undefined", () => {
    expect(podmanSocketFor(parseCgroups(`0::/system.slice/docker-${P}.scope\n`), sockets)).toBeUndefined();
    expect(podmanSocketFor(parseCgroups(`0::/user.slice/user-1000.slice/docker-${P}.scope\n`), sockets)).toBeUndefined();
  });

  it("a UID beyond 32 bits falls back to the rootful socket, with a warning", () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m) } as never;
    const cgroups = parseCgroups(`0::/user.slice/user-99999999999.slice/libpod-${P}.scope\n`);
    expect(podmanSocketFor(cgroups, sockets, log)).toBe(sockets.rootful);
    expect(warnings).toEqual(["Failed to parse rootless Podman UID from cgroup path, falling back to rootful Podman socket"]);
  });
});

describe("podman_socket_path_template", () => {
  it("accepts one %d, and %% as a literal percent", () => {
    expect(validatePodmanTemplate("unix:///run/user/%d/podman.sock")).toBeUndefined();
    expect(validatePodmanTemplate("unix:///run/100%%/%d.sock")).toBeUndefined();
    expect(formatTemplate("unix:///run/100%%/%d.sock", 42)).toBe("unix:///run/100%/42.sock");
  });

  it("refuses other verbs, a trailing %, and anything but one %d", () => {
    expect(validatePodmanTemplate("unix:///run/%s/%d")).toBe("template only supports escaped %% or the %d UID placeholder");
    expect(validatePodmanTemplate("unix:///run/%d/%")).toBe("trailing % at end of template");
    expect(validatePodmanTemplate("unix:///run/podman.sock")).toBe("template must contain exactly one %d UID placeholder");
    expect(validatePodmanTemplate("unix:///run/%d/%d")).toBe("template must contain exactly one %d UID placeholder");
  });
});
