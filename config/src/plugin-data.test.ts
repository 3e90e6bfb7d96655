import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { parseConfigText } from "./parse.js";
import { decodePluginConfig, pluginDataText } from "./plugin-data.js";
import { bool, int, list, map, object, str } from "./schema.js";
import type { ConfigValue } from "./tree.js";

async function pluginDataOf(body: string) {
  const tree = await parseConfigText(`plugins {\n  KeyManager "disk" {\n${body}\n  }\n}\n`);
  const plugin = (tree.plugins as never as [{ KeyManager: [{ disk: [Record<string, ConfigValue>] }] }])[0].KeyManager[0].disk[0];
  return plugin.plugin_data;
}

describe("pluginDataText", () => {
  it("is JSON of the block, with hcl v1's one-element block lists unwrapped", async () => {
    const data = await pluginDataOf(`
      plugin_data {
        keys_path = "/var/lib/spire/keys.json"
        rotate = true
        clusters = {
          "prod" = { service_account_allow_list = ["spire:spire-agent"] }
        }
        rule { a = 1 }
        rule { a = 2 }
      }`);
    const text = pluginDataText(data);
    expect(JSON.parse(text)).toEqual({
      keys_path: "/var/lib/spire/keys.json",
      rotate: true,
      clusters: { prod: { service_account_allow_list: ["spire:spire-agent"] } },
      rule: [{ a: 1 }, { a: 2 }],
    });
  });

  it("is empty when there is no data or an empty block, as SPIRE sends it", async () => {
    expect(pluginDataText(undefined)).toBe("");
    expect(pluginDataText(await pluginDataOf("plugin_data {}"))).toBe("");
    expect(pluginDataText(await pluginDataOf("plugin_data = {}"))).toBe("");
    expect(pluginDataText({})).toBe("");
  });

  it("merges repeated plugin_data blocks and refuses a key in two of them", async () => {
    expect(JSON.parse(pluginDataText(await pluginDataOf("plugin_data { a = 1 }\nplugin_data { b = 2 }")))).toEqual({ a: 1, b: 2 });
    const error = (() => {
      try {
        pluginDataText([{ a: 1 }, { a: 2 }], { at: ["plugins", "KeyManager", { label: "disk" }, "plugin_data"] });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toBe('plugins.KeyManager "disk".plugin_data.a: set more than once');
  });

  it("gives text that hcl v1 (what SPIRE plugins decode with) reads back to the same tree", async () => {
    const data = await pluginDataOf('plugin_data {\n  a = "x"\n  n = 5\n  nested { b = ["c", "d"] }\n}');
    const text = pluginDataText(data);
    const hcl = createRequire(import.meta.url)("js-hcl-parser") as { parse(text: string): string };
    expect(JSON.parse(hcl.parse(text))).toEqual((data as unknown[])[0]);
  });
});

describe("decodePluginConfig", () => {
  const schema = object({
    keys_path: str(),
    rotate: bool().default(false),
    port: int().optional(),
    clusters: map(object({ service_account_allow_list: list(str()) })).default({}),
  });

  it("decodes JSON from a Signet host", async () => {
    const config = await decodePluginConfig(schema, '{"keys_path":"/k","clusters":{"prod":{"service_account_allow_list":["a:b"]}}}');
    expect(config).toEqual({ keys_path: "/k", rotate: false, clusters: { prod: { service_account_allow_list: ["a:b"] } } });
  });

  it("decodes HCL printed by SPIRE to the same value", async () => {
    const hclText = 'keys_path = "/k"\n\nclusters = {\n  "prod" = {\n    service_account_allow_list = ["a:b"]\n  }\n}';
    const json = '{"keys_path":"/k","clusters":{"prod":{"service_account_allow_list":["a:b"]}}}';
    expect(await decodePluginConfig(schema, hclText)).toEqual(await decodePluginConfig(schema, json));
  });

  it("round-trips pluginDataText output", async () => {
    const data = await pluginDataOf('plugin_data {\n  keys_path = "/k"\n  rotate = true\n  clusters "prod" { service_account_allow_list = ["x:y"] }\n}');
    expect(await decodePluginConfig(schema, pluginDataText(data))).toEqual({
      keys_path: "/k",
      rotate: true,
      clusters: { prod: { service_account_allow_list: ["x:y"] } },
    });
  });

  it("names the key in errors, with the line for HCL text", async () => {
    await expect(decodePluginConfig(schema, '{"keys_path": ["a"]}')).rejects.toThrow(
      "plugin configuration:1: keys_path: expected a string, got a list",
    );
    await expect(decodePluginConfig(schema, 'rotate = true\nkeys_path = "/k"\nport = "x"')).rejects.toThrow(
      'plugin configuration:3: port: expected an integer, got "x"',
    );
    await expect(decodePluginConfig(schema, 'keys_path = "/k"\nkey_size = 1')).rejects.toThrow(
      "plugin configuration:2: key_size: unknown key",
    );
    await expect(decodePluginConfig(schema, "keys_path = ")).rejects.toThrow(ConfigError);
  });

  it("treats empty text as an empty block", async () => {
    await expect(decodePluginConfig(schema, "")).rejects.toThrow("keys_path: required but not set");
    expect(await decodePluginConfig(object({ a: str().optional() }), "  \n")).toEqual({});
  });

  it("lets the plugin ignore unknown keys", async () => {
    expect(await decodePluginConfig(object({ a: str() }), '{"a":"x","b":1}', { unknownKeys: "ignore" })).toEqual({ a: "x" });
  });
});
