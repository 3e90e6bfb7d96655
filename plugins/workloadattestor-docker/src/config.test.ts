import { describe, expect, it } from "vitest";
import { parseSettings } from "./config.js";

describe("parseSettings", () => {
  it("defaults to SPIRE's sockets, negotiation and the new container locator", async () => {
    const settings = await parseSettings("");
    expect(settings.dockerHost).toEqual({ kind: "unix", url: "unix:///var/run/docker.sock", socketPath: "/var/run/docker.sock" });
    expect(settings.dockerVersion).toBeUndefined();
    expect(settings.matchers).toBeUndefined();
    expect(settings.verboseContainerLocatorLogs).toBe(false);
    expect(settings.podman).toEqual({ rootful: "unix:///run/podman/podman.sock", rootlessTemplate: "unix:///run/user/%d/podman/podman.sock" });
    expect(settings.notes).toEqual(["Using the new container locator"]);
  });

  it("reads every key, in HCL as SPIRE sends it and in JSON as Signet does", async () => {
    const hcl = `
      docker_socket_path = "tcp://127.0.0.1:2375/base"
      docker_version = "v1.43"
      use_new_container_locator = false
      container_id_cgroup_matchers = ["/docker/<id>", "/my.slice/*/<id>/*"]
      verbose_container_locator_logs = true
      podman_socket_path = "unix:///p.sock"
      podman_socket_path_template = "unix:///u/%d.sock"
    `;
    const json = JSON.stringify({
      docker_socket_path: "tcp://127.0.0.1:2375/base",
      docker_version: "v1.43",
      use_new_container_locator: false,
      container_id_cgroup_matchers: ["/docker/<id>", "/my.slice/*/<id>/*"],
      verbose_container_locator_logs: true,
      podman_socket_path: "unix:///p.sock",
      podman_socket_path_template: "unix:///u/%d.sock",
    });
    for (const text of [hcl, json]) {
      const settings = await parseSettings(text);
      expect(settings.dockerHost).toEqual({ kind: "tcp", url: "tcp://127.0.0.1:2375/base", hostname: "127.0.0.1", port: 2375, basePath: "/base" });
      expect(settings.dockerVersion).toBe("1.43");
      expect(settings.matchers?.find("/my.slice/a/abc/b")).toBe("abc");
      expect(settings.verboseContainerLocatorLogs).toBe(true);
      expect(settings.podman).toEqual({ rootful: "unix:///p.sock", rootlessTemplate: "unix:///u/%d.sock" });
      expect(settings.notes).toEqual(["Using the legacy container locator with custom cgroup matchers. This feature will be removed in a future release."]);
    }
  });

  it("runs the new locator when use_new_container_locator = false has no matchers (as SPIRE)", async () => {
    const settings = await parseSettings("use_new_container_locator = false");
    expect(settings.matchers).toBeUndefined();
  });

  it("treats docker_version \"\" and \"v\" as unset and normalizes the rest", async () => {
    expect((await parseSettings('docker_version = "v"')).dockerVersion).toBeUndefined();
    expect((await parseSettings('docker_version = " 1.041 "')).dockerVersion).toBe("1.41");
  });

  it.each([
    ["an unknown key", "docker_socket = \"x\"", /docker_socket: unknown key/],
    ["two unknown keys", "invalid1 = 1\ninvalid2 = 2", /invalid1.*invalid2/s],
    ["Windows' docker_host", 'docker_host = "npipe:////./pipe/docker_engine"', /docker_host: unknown key/],
    ["a sigstore block (not supported: refused, never ignored)", "sigstore {\n rekor_url = \"https://rekor.sigstore.dev\"\n}", /^sigstore: image signature verification \(sigstore\) is not supported/],
    ["a list for a string", '{"docker_socket_path": ["a"]}', /docker_socket_path: expected a string/],
    ["a string for the matcher list", '{"container_id_cgroup_matchers": "/docker/<id>"}', /container_id_cgroup_matchers: expected a list/],
    ["matchers with the new locator", 'container_id_cgroup_matchers = ["/docker/<id>"]', /^container_id_cgroup_matchers: the new container locator and custom cgroup matchers cannot both be used/],
    ["a matcher without <id>", 'use_new_container_locator = false\ncontainer_id_cgroup_matchers = ["/docker/"]', /^container_id_cgroup_matchers: pattern "\/docker\/" must contain/],
    ["ambiguous matchers", 'use_new_container_locator = false\ncontainer_id_cgroup_matchers = ["/a/b/<id>", "/*/b/<id>"]', /container_id_cgroup_matchers: dockerfinder: patterns must not be ambiguous/],
    ["a socket path without a scheme", 'docker_socket_path = "/var/run/docker.sock"', /^docker_socket_path: unable to parse docker host `\/var\/run\/docker.sock`/],
    ["an unsupported scheme", 'docker_socket_path = "npipe:////./pipe/docker_engine"', /^docker_socket_path: .*protocol "npipe" is not supported/],
    ["a bad podman socket", 'podman_socket_path = "podman.sock"', /^podman_socket_path: unable to parse docker host/],
    ["a template without %d", 'podman_socket_path_template = "unix:///run/podman.sock"', /^podman_socket_path_template: invalid podman_socket_path_template: template must contain exactly one %d UID placeholder/],
    ["a template with %s", 'podman_socket_path_template = "unix:///run/%s/%d"', /podman_socket_path_template: .*only supports escaped %% or the %d/],
    ["a docker_version without a dot", 'docker_version = "143"', /^docker_version: invalid API version \(143\): must be formatted <major>.<minor>/],
    ["a docker_version with letters", 'docker_version = "1.x"', /^docker_version: invalid API version \(1.x\): invalid minor version/],
    ["a string for a boolean", 'use_new_container_locator = "maybe"', /use_new_container_locator: expected a boolean/],
  ])("refuses %s, naming the key", async (_name, text, message) => {
    await expect(parseSettings(text)).rejects.toThrow(message);
  });
});
