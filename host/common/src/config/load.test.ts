import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@signet/config";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "./load.js";

const files = (contents: Record<string, string>) => ({
  readFile: async (path: string) => {
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    return text;
  },
});

describe("loadConfigFile", () => {
  it("reads and parses a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signet-config-"));
    const path = join(dir, "server.conf");
    writeFileSync(path, 'server {\n  trust_domain = "example.org"\n}\n');
    const loaded = await loadConfigFile(path);
    expect(loaded.tree).toEqual({ server: [{ trust_domain: "example.org" }] });
    expect(loaded.source).toEqual({ filename: path, text: 'server {\n  trust_domain = "example.org"\n}\n' });
  });

  it("says which file could not be read and why, in Go's words", async () => {
    const path = join(tmpdir(), "signet-no-such-dir", "server.conf");
    await expect(loadConfigFile(path)).rejects.toThrow(`unable to read configuration at "${path}": no such file or directory`);
    await expect(loadConfigFile(tmpdir())).rejects.toThrow(`unable to read configuration at "${tmpdir()}": is a directory`);
    await expect(loadConfigFile(path)).rejects.toBeInstanceOf(ConfigError);
  });

  it("expands the environment only when asked, before parsing", async () => {
    const io = files({ "a.conf": 'agent {\n  trust_domain = "${TD}"\n  join_token = "$TOKEN"\n  note = "$$5"\n}' });
    const env = { TD: "example.org", TOKEN: "abc" };
    const expanded = await loadConfigFile("a.conf", { ...io, expandEnv: true, env });
    expect(expanded.tree).toEqual({ agent: [{ trust_domain: "example.org", join_token: "abc", note: "$5" }] });
    expect(expanded.source.text).toContain('"example.org"');
    const verbatim = await loadConfigFile("a.conf", { ...io, env });
    expect(verbatim.tree).toEqual({ agent: [{ trust_domain: "${TD}", join_token: "$TOKEN", note: "$$5" }] });
  });

  it("names the file in syntax errors", async () => {
    const io = files({ "bad.conf": "server {\n  trust_domain = \n" });
    await expect(loadConfigFile("bad.conf", io)).rejects.toThrow(/^bad\.conf:3:\d+: /);
  });

  it("ignores a UTF-8 byte order mark", async () => {
    const io = files({ "bom.json": '\uFEFF{"server": {"trust_domain": "x"}}' });
    expect((await loadConfigFile("bom.json", io)).tree).toEqual({ server: [{ trust_domain: "x" }] });
  });
});
