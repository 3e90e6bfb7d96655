import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { etcNames, findGroupName, findUserName } from "./names.js";

const passwd = [
  "# comment:x:1000:1000::/:/bin/sh",
  "",
  "+nis:x:1000:1000::/:/bin/sh",
  "short:x:1000",
  "  alice:x:1000:1000:Alice:/home/alice:/bin/bash  ",
  "alice2:x:1000:1000::/home/alice2:/bin/bash",
  "bad:x:2000:notanumber::/:/bin/sh",
].join("\n");
const group = ["-nis:x:10:", "wheel:x:10:alice,bob", "staff:x:20", "users:x:100:"].join("\n");

describe("findUserName / findGroupName", () => {
  it("answers the first well-formed entry, skipping comments, blanks, NIS and short lines", () => {
    expect(findUserName(passwd, "1000")).toBe("alice");
    expect(findGroupName(group, "10")).toBe("wheel");
    expect(findGroupName(group, "100")).toBe("users");
  });

  it("answers nothing for unknown IDs and malformed entries", () => {
    expect(findUserName(passwd, "2000")).toBeUndefined();
    expect(findUserName(passwd, "1")).toBeUndefined();
    expect(findGroupName(group, "20")).toBeUndefined();
    expect(findGroupName("", "0")).toBeUndefined();
  });

  it("compares IDs as written, as Go's os/user does", () => {
    expect(findGroupName(group, "010")).toBeUndefined();
  });
});

describe("etcNames", () => {
  it("reads passwd and group from a directory, and treats missing files as no names", async () => {
    const dir = await mkdtemp(join(tmpdir(), "unix-names-"));
    try {
      await writeFile(join(dir, "passwd"), passwd);
      const names = await etcNames(dir)();
      expect(names.userName("1000")).toBe("alice");
      expect(names.groupName("10")).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("sees a change to the files at the next lookup", async () => {
    const dir = await mkdtemp(join(tmpdir(), "unix-names-"));
    try {
      const load = etcNames(dir);
      await writeFile(join(dir, "passwd"), "alice:x:1000:1000::/:/bin/sh\n");
      expect((await load()).userName("1000")).toBe("alice");
      await writeFile(join(dir, "passwd"), "bobby:x:1000:1000::/:/bin/sh\n");
      expect((await load()).userName("1000")).toBe("bobby");
      await rm(join(dir, "passwd"));
      expect((await load()).userName("1000")).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads the real /etc", async () => {
    const names = await etcNames()();
    expect(names.userName("0")).toBe("root");
    expect(names.groupName("0")).toBe("root");
  });
});
