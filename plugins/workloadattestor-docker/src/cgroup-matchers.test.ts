import { describe, expect, it } from "vitest";
import { compileMatchers, containerIdFromCgroups } from "./cgroup-matchers.js";
import { parseCgroups } from "./cgroups.js";

describe("container_id_cgroup_matchers patterns", () => {
  it("matches whole paths, '*' and '<id>' standing for one component each", () => {
    const finder = compileMatchers(["/docker/<id>", "/my.slice/*/<id>/*"]);
    expect(finder.find("/docker/abc")).toBe("abc");
    expect(finder.find("/my.slice/tenant/abc/init")).toBe("abc");
    expect(finder.find("/docker/abc/more")).toBeUndefined();
    expect(finder.find("/my.slice/a/b/abc/init")).toBeUndefined();
    expect(finder.find("/x/docker/abc")).toBeUndefined();
    // A match may capture an empty component (containerIdFromCgroups refuses it).
    expect(finder.find("/docker/")).toBe("");
  });

  it("treats everything else literally (not a regular expression)", () => {
    // "docker-<id>" is a literal component, not the token: the pattern has no <id>.
    expect(() => compileMatchers(["/system.slice/docker-<id>"])).toThrow("must contain the container id token");
    const finder = compileMatchers(["/a+b/(x)/<id>"]);
    expect(compileMatchers(["/system.slice/*/<id>"]).find("/system.slice/docker-abc.scope/abc")).toBe("abc");
    expect(finder.find("/a+b/(x)/abc")).toBe("abc");
    expect(finder.find("/aab/x/abc")).toBeUndefined();
    expect(compileMatchers(["/d.cker/<id>"]).find("/docker/abc")).toBeUndefined();
  });

  it("refuses patterns without exactly one <id>", () => {
    expect(() => compileMatchers(["/docker/"])).toThrow('pattern "/docker/" must contain the container id token "<id>" exactly once');
    expect(() => compileMatchers(["/<id>/<id>"])).toThrow('pattern "/<id>/<id>" must contain the container id token "<id>" exactly once');
    expect(() => compileMatchers([])).toThrow("dockerfinder: at least 1 pattern must be supplied");
  });

  it("refuses ambiguous lists, naming the patterns", () => {
    expect(() => compileMatchers(["/a/b/<id>", "/*/b/<id>"])).toThrow('dockerfinder: patterns must not be ambiguous: ["/a/b/<id>" "/*/b/<id>"]');
    expect(() => compileMatchers(["/docker/<id>", "/docker/<id>"])).toThrow('ambiguous: ["/docker/<id>"]');
    expect(() => compileMatchers(["/x/<id>", "/docker/<id>", "/docker/*"])).toThrow('ambiguous: ["/docker/<id>" "/docker/*"]');
    // Different component counts or a differing literal cannot match the same path.
    expect(() => compileMatchers(["/docker/<id>", "/docker/<id>/*", "/podman/<id>"])).not.toThrow();
  });
});

describe("containerIdFromCgroups (legacy locator)", () => {
  const finder = compileMatchers(["/docker/<id>"]);
  it("answers the one ID the matching cgroups agree on, ignoring others", () => {
    expect(containerIdFromCgroups(finder, parseCgroups("2:cpu:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n"))).toBe("abc");
    expect(containerIdFromCgroups(finder, parseCgroups("0::/user.slice\n"))).toBe("");
  });

  it("fails (Unknown, as SPIRE's plain errors) on two IDs or an empty capture", () => {
    expect(() => containerIdFromCgroups(finder, parseCgroups("2:cpu:/docker/abc\n1:cpu:/docker/def\n"))).toThrow(
      expect.objectContaining({ kind: "unknown", message: "workloadattestor/docker: multiple container IDs found in cgroups (abc, def)" }),
    );
    expect(() => containerIdFromCgroups(finder, parseCgroups("0::/docker/\n"))).toThrow(
      expect.objectContaining({ kind: "unknown", message: "workloadattestor/docker: a pattern matched, but no container id was found" }),
    );
  });
});
