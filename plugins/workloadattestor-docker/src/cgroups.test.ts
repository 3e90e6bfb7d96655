import { describe, expect, it } from "vitest";
import { parseCgroups } from "./cgroups.js";
import { parseMountInfo } from "./mountinfo.js";

describe("parseCgroups", () => {
  it("reads v1 and v2 lines, keeping colons inside the path", () => {
    expect(parseCgroups("12:cpu,cpuacct:/docker/x\n0::/a:b:c\n")).toEqual([
      { hierarchyId: "12", controllerList: "cpu,cpuacct", groupPath: "/docker/x" },
      { hierarchyId: "0", controllerList: "", groupPath: "/a:b:c" },
    ]);
  });

  it("gives nothing for an empty file and ignores one trailing newline (and \\r)", () => {
    expect(parseCgroups("")).toEqual([]);
    expect(parseCgroups("0::/\r\n")).toEqual([{ hierarchyId: "0", controllerList: "", groupPath: "/" }]);
  });

  it("refuses the whole file for one line without three fields, quoting it as SPIRE does", () => {
    expect(() => parseCgroups("0::/\ngarbage\n")).toThrow('invalid cgroup entry, contains 1 colon separated fields but expected at least 3: "garbage"');
    expect(() => parseCgroups("1:cpu\n")).toThrow('contains 2 colon separated fields but expected at least 3: "1:cpu"');
    expect(() => parseCgroups("0::/\n\n0::/\n")).toThrow('contains 1 colon separated fields but expected at least 3: ""');
  });
});

describe("parseMountInfo", () => {
  it("reads root and filesystem type, with optional fields and an empty mount source", () => {
    const text = [
      "573 572 0:33 /docker/x /sys/fs/cgroup/systemd ro,nosuid master:11 - cgroup cgroup rw,name=systemd",
      "119 206 0:68 / /local rw,relatime - tmpfs  rw,size=8192k",
      "",
      "1 0 0:1 /a\\040b /mnt rw shared:1 master:2 - cgroup2 cgroup2 rw",
    ].join("\n");
    expect(parseMountInfo(text)).toEqual([
      { root: "/docker/x", fsType: "cgroup" },
      { root: "/", fsType: "tmpfs" },
      { root: "/a\\040b", fsType: "cgroup2" },
    ]);
  });

  it.each([
    ["no separator", "1 0 0:1 / /mnt rw cgroup2", "missing separator in mountinfo line: 1 0 0:1 / /mnt rw cgroup2"],
    ["too few fields", "1 0 0:1 / - cgroup2 x y", "expected at least 6 fields before separator in mountinfo line"],
    ["no filesystem type", "1 0 0:1 / /mnt rw -", "missing filesystem type in mountinfo line"],
    ["an empty filesystem type", "1 0 0:1 / /mnt rw -  src opts", "missing filesystem type in mountinfo line"],
  ])("refuses %s", (_name, line, message) => {
    expect(() => parseMountInfo(line)).toThrow(message);
  });
});
