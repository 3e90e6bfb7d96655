import { describe, expect, it } from "vitest";
import { effectiveId, parseStatus } from "./status.js";

const status = ["Name:\tweird:name", "Umask:\t0022", "Uid:\t1000\t1001\t1000\t1001", "Gid:\t50\t51\t50\t51", "Groups:\t4 24 27 ", ""].join("\n");

describe("parseStatus", () => {
  it("reads the Uid, Gid and Groups lines", () => {
    expect(parseStatus(status)).toEqual({ uids: ["1000", "1001", "1000", "1001"], gids: ["50", "51", "50", "51"], groups: ["4", "24", "27"] });
  });

  it("answers empty lists for missing lines and an empty Groups line", () => {
    expect(parseStatus("Name:\tx\nGroups:\t \n")).toEqual({ uids: [], gids: [], groups: [] });
  });
});

describe("effectiveId", () => {
  it("takes the effective (second) ID, or the only one", () => {
    expect(effectiveId(["1000", "1001", "1000", "1001"], "UIDs")).toEqual({ id: "1001" });
    expect(effectiveId(["7"], "GIDs")).toEqual({ id: "7" });
  });

  it("fails in SPIRE's words when there is no ID, and on garbage", () => {
    expect(effectiveId([], "UIDs")).toEqual({ error: "UIDs lookup: no UIDs for process" });
    expect(effectiveId([], "GIDs")).toEqual({ error: "GIDs lookup: no GIDs for process" });
    expect(effectiveId(["0", "x"], "UIDs")).toEqual({ error: 'UIDs lookup: invalid ID "x" in process status' });
    expect(effectiveId(["0", "99999999999"], "GIDs")).toEqual({ error: 'GIDs lookup: invalid ID "99999999999" in process status' });
  });
});

describe("parseStatus on real and odd input", () => {
  it("agrees with a plain line-by-line reading on this process's own status", async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync("/proc/self/status", "utf8");
    const line = (key: string) => text.split("\n").find((l) => l.startsWith(`${key}:`))!.slice(key.length + 1).trim().split(/\s+/).filter((f) => f !== "");
    expect(parseStatus(text)).toEqual({ uids: line("Uid"), gids: line("Gid"), groups: line("Groups") });
  });

  it("takes the first of repeated keys, keys in any case and with blanks around them", () => {
    const odd = ["Uid:\t1\t2\t3\t4", " uid :\t9\t9\t9\t9", "Name:\tGid: 5 5", "\tGID :\t7\t8", "GROUPS:\t1 2", "Gid:\t0\t0"].join("\n");
    expect(parseStatus(odd)).toEqual({ uids: ["1", "2", "3", "4"], gids: ["7", "8"], groups: ["1", "2"] });
  });
});
