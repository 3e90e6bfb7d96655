import { describe, expect, it } from "vitest";
import { ExampleAttestor, parseStatus } from "./attestor.js";
import { parseSettings } from "./config.js";

const status = (uid: string, gid: string) => `Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t${uid}\nGid:\t${gid}\nGroups:\t4 24\n`;

describe("parseStatus", () => {
  it("reads the effective UID and GID", () => {
    expect(parseStatus(status("1000\t1001\t1000\t1001", "50\t51\t50\t51"))).toEqual({ uid: 1001, gid: 51 });
  });

  it("gives up on text that is not a status file", () => {
    expect(parseStatus("Name:\tnode\n")).toBeUndefined();
  });
});

describe("ExampleAttestor", () => {
  const everyone = { selectorPrefix: "", allowedUids: undefined };
  const fakeProc = (files: Record<number, string>) => async (pid: number) => files[pid];

  it("answers uid and gid selector values, prefixed when configured", async () => {
    const read = fakeProc({ 42: status("7\t7\t7\t7", "8\t8\t8\t8") });
    expect(await new ExampleAttestor(everyone, read).attest(42)).toEqual(["uid:7", "gid:8"]);
    expect(await new ExampleAttestor({ ...everyone, selectorPrefix: "team-a" }, read).attest(42)).toEqual(["team-a:uid:7", "team-a:gid:8"]);
  });

  it("answers nothing for PIDs that are not its to judge", async () => {
    const read = fakeProc({ 42: status("7\t7\t7\t7", "8\t8\t8\t8") });
    expect(await new ExampleAttestor(everyone, read).attest(43)).toEqual([]);
    expect(await new ExampleAttestor({ ...everyone, allowedUids: new Set([1000]) }, read).attest(42)).toEqual([]);
    expect(await new ExampleAttestor({ ...everyone, allowedUids: new Set([7]) }, read).attest(42)).toEqual(["uid:7", "gid:8"]);
  });

  it("refuses PIDs that cannot exist", async () => {
    await expect(new ExampleAttestor(everyone).attest(0)).rejects.toThrow(RangeError);
    await expect(new ExampleAttestor(everyone).attest(-5)).rejects.toThrow(/positive integer/);
  });

  it("reads this very process from /proc", async () => {
    expect(await new ExampleAttestor(everyone).attest(process.pid)).toEqual([`uid:${process.geteuid?.()}`, `gid:${process.getegid?.()}`]);
  });
});

describe("parseSettings", () => {
  it("has defaults for everything", async () => {
    expect(await parseSettings("")).toEqual({ selectorPrefix: "", allowedUids: undefined });
  });

  it("reads JSON (Signet) and HCL (SPIRE) alike", async () => {
    const fromJson = await parseSettings(JSON.stringify({ selector_prefix: "team-a", allowed_uids: [1000, 1001] }));
    const fromHcl = await parseSettings('selector_prefix = "team-a"\nallowed_uids = [1000, 1001]');
    expect(fromJson).toEqual({ selectorPrefix: "team-a", allowedUids: new Set([1000, 1001]) });
    expect(fromHcl).toEqual(fromJson);
  });

  it("names the key in every error", async () => {
    await expect(parseSettings('{"selector_prefix": "a:b"}')).rejects.toThrow(/^selector_prefix: "a:b" may hold only/);
    await expect(parseSettings('{"allowed_uids": [-1]}')).rejects.toThrow(/allowed_uids/);
    await expect(parseSettings('{"allowed_uids": "1000"}')).rejects.toThrow(/allowed_uids/);
    await expect(parseSettings('{"selector_prefx": "x"}')).rejects.toThrow(/selector_prefx/);
  });
});
