import { readFile, readlink } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { goErrorText } from "./go-error-text.js";

describe("goErrorText", () => {
  it("words a file-system error with a path as Go's os package", () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/proc/1/cgroup'"), { code: "EACCES", syscall: "open", path: "/proc/1/cgroup" });
    expect(goErrorText(e)).toBe("open /proc/1/cgroup: permission denied");
  });

  it("words a real failed read and readlink", async () => {
    const missing = "/nonexistent-signet-dir/file";
    expect(goErrorText(await readFile(missing).catch((e: unknown) => e))).toBe(`open ${missing}: no such file or directory`);
    expect(goErrorText(await readlink(missing).catch((e: unknown) => e))).toBe(`readlink ${missing}: no such file or directory`);
  });

  it("leaves out the path when there is none", () => {
    const e = Object.assign(new Error("ESRCH: no such process, kill"), { code: "ESRCH", syscall: "kill" });
    expect(goErrorText(e)).toBe("kill: no such process");
  });

  it("keeps the message of errors that are not errno errors, and the text of non-Errors", () => {
    expect(goErrorText(new Error("plain"))).toBe("plain");
    expect(goErrorText(Object.assign(new Error("odd"), { code: "EX" }))).toBe("odd");
    expect(goErrorText("text")).toBe("text");
    expect(goErrorText(undefined)).toBe("undefined");
  });
});
