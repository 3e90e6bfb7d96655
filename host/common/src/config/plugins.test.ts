import type { ConfigSource } from "@signet/config";
import { ConfigError, parseConfigText } from "@signet/config";
import { describe, expect, it } from "vitest";
import type { PluginDeclarationOptions } from "./plugins.js";
import { parsePluginDeclarations } from "./plugins.js";

const CHECKSUM = "ab".repeat(32);

async function declare(text: string, options: Partial<PluginDeclarationOptions> = {}) {
  const source: ConfigSource = { filename: "server.conf", text };
  const tree = await parseConfigText(text, { filename: "server.conf" });
  return parsePluginDeclarations(tree.plugins, { side: "server", source, cwd: "/work", ...options });
}

async function declareError(text: string, options: Partial<PluginDeclarationOptions> = {}): Promise<ConfigError> {
  try {
    await declare(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("no error thrown");
}

const names = (list: readonly { type: string; name: string }[]) => list.map((d) => `${d.type}/${d.name}`);

describe("parsePluginDeclarations", () => {
  it("accepts every block shape SPIRE accepts, to the same declaration", async () => {
    const labelled = await declare('plugins {\n  KeyManager "disk" {\n    plugin_data { keys_path = "/k" }\n  }\n}');
    const nested = await declare('plugins {\n  KeyManager {\n    disk {\n      plugin_data { keys_path = "/k" }\n    }\n  }\n}');
    const stacked = await declare('plugins {\n  KeyManager "disk" plugin_data {\n    keys_path = "/k"\n  }\n}');
    const json = await declare('{"plugins": {"KeyManager": {"disk": {"plugin_data": {"keys_path": "/k"}}}}}');
    const expected = {
      plugins: [{ type: "KeyManager", name: "disk", source: { kind: "builtin" }, args: [], data: { kind: "inline", text: '{"keys_path":"/k"}' }, enabled: true }],
      disabled: [],
    };
    for (const result of [labelled, nested, stacked, json]) expect(result).toEqual(expected);
  });

  it("keeps declaration order across types, which hcl v1's sorted tree loses", async () => {
    const text = [
      "plugins {",
      '  UpstreamAuthority "disk" {}',
      '  NodeAttestor "x509pop" {}',
      '  KeyManager "memory" {}',
      '  NodeAttestor "join_token" {}',
      "  Notifier {",
      "    zeta {}",
      "    alpha {}",
      "  }",
      "}",
    ].join("\n");
    expect(names((await declare(text)).plugins)).toEqual([
      "UpstreamAuthority/disk",
      "NodeAttestor/x509pop",
      "KeyManager/memory",
      "NodeAttestor/join_token",
      "Notifier/zeta",
      "Notifier/alpha",
    ]);
  });

  it("reads external plugins: command made absolute, args, checksum in lower case", async () => {
    const { plugins } = await declare(`plugins {
      NodeAttestor "custom" {
        plugin_cmd = "./bin/custom-na"
        plugin_args = ["--a", "b"]
        plugin_checksum = "${CHECKSUM.toUpperCase()}"
      }
      KeyManager "vault" {
        plugin_package = "@example/signet-keymanager-vault"
        plugin_data_file = "conf/vault.hcl"
      }
      DataStore "sql" { plugin_cmd = "" }
    }`);
    expect(plugins).toEqual([
      { type: "NodeAttestor", name: "custom", source: { kind: "cmd", path: "/work/bin/custom-na" }, args: ["--a", "b"], checksum: CHECKSUM, data: { kind: "none" }, enabled: true },
      { type: "KeyManager", name: "vault", source: { kind: "package", packageName: "@example/signet-keymanager-vault" }, args: [], data: { kind: "file", path: "/work/conf/vault.hcl" }, enabled: true },
      { type: "DataStore", name: "sql", source: { kind: "builtin" }, args: [], data: { kind: "none" }, enabled: true },
    ]);
  });

  it("returns disabled blocks separately", async () => {
    const { plugins, disabled } = await declare('plugins {\n  KeyManager "disk" {}\n  Notifier "k8sbundle" { enabled = false }\n  Notifier "gcs" { enabled = "true" }\n}');
    expect(names(plugins)).toEqual(["KeyManager/disk", "Notifier/gcs"]);
    expect(disabled).toEqual([{ type: "Notifier", name: "k8sbundle", source: { kind: "builtin" }, args: [], data: { kind: "none" }, enabled: false }]);
  });

  it("returns nothing when there is no plugins section", async () => {
    expect(await declare("server {}")).toEqual({ plugins: [], disabled: [] });
  });

  it("decides the types by side", async () => {
    const text = 'plugins {\n  WorkloadAttestor "unix" {}\n}';
    expect(names((await declare(text, { side: "agent" })).plugins)).toEqual(["WorkloadAttestor/unix"]);
    const error = await declareError(text);
    expect(error.message).toBe(
      'server.conf:2: plugins.WorkloadAttestor "unix": unsupported plugin type "WorkloadAttestor" ' +
        "(the server loads DataStore, KeyManager, NodeAttestor, UpstreamAuthority, Notifier, CredentialComposer, BundlePublisher)",
    );
  });

  describe("errors", () => {
    it("refuses an unknown type even when the block is disabled, as SPIRE does", async () => {
      const error = await declareError('plugins {\n  Foo "bar" { enabled = false }\n}');
      expect(error.detail).toMatch(/^unsupported plugin type "Foo"/);
      expect(error.line).toBe(2);
    });

    it("refuses a type+name declared twice, in any shapes", async () => {
      const twice = await declareError('plugins {\n  KeyManager "disk" {}\n  NodeAttestor "x" {}\n  KeyManager "disk" { enabled = false }\n}');
      expect(twice.message).toBe('server.conf: plugin "KeyManager"/"disk" declared more than once (lines 2, 4)');
      const nested = await declareError("plugins {\n  KeyManager {\n    disk {}\n    disk {}\n  }\n}");
      expect(nested.detail).toBe('plugin "KeyManager"/"disk" declared more than once (lines 3, 4)');
    });

    it("refuses plugin_data with plugin_data_file, and plugin_cmd with plugin_package", async () => {
      expect((await declareError('plugins {\n  KeyManager "disk" {\n    plugin_data {}\n    plugin_data_file = "x"\n  }\n}')).message).toBe(
        'server.conf:2: plugins.KeyManager "disk": only one of [plugin_data, plugin_data_file] can be used',
      );
      expect((await declareError('plugins {\n  KeyManager "disk" {\n    plugin_cmd = "/a"\n    plugin_package = "b"\n  }\n}')).detail).toBe(
        "only one of [plugin_cmd, plugin_package] can be used",
      );
    });

    it("refuses keys a plugin block does not have, naming the key and line", async () => {
      const error = await declareError('plugins {\n  KeyManager "disk" {\n    plugin_dta { a = 1 }\n  }\n}');
      expect(error.message).toBe('server.conf:3: plugins.KeyManager "disk".plugin_dta: unknown key (did you mean "plugin_data"?)');
    });

    it("refuses values of the wrong type", async () => {
      expect((await declareError('plugins {\n  KeyManager "disk" {\n    plugin_args = "--x"\n  }\n}')).message).toBe(
        'server.conf:3: plugins.KeyManager "disk".plugin_args: expected a list, got a string',
      );
      expect((await declareError('plugins {\n  KeyManager "disk" {\n    enabled = "maybe"\n  }\n}')).detail).toBe('expected a boolean, got "maybe"');
      expect((await declareError('plugins {\n  KeyManager "disk" {\n    plugin_cmd { a = 1 }\n  }\n}')).detail).toBe("expected a string, got a block");
      expect((await declareError('plugins {\n  KeyManager = "disk"\n}')).message).toBe(
        'server.conf:2: plugins.KeyManager: expected plugin blocks (KeyManager "name" { ... }), got a string',
      );
      expect((await declareError('plugins = "x"')).detail).toBe("expected a block, got a string");
    });

    it("validates checksums with SPIRE's wording", async () => {
      const withChecksum = (sum: string) => `plugins {\n  KeyManager "k" {\n    plugin_cmd = "/k"\n    plugin_checksum = "${sum}"\n  }\n}`;
      expect((await declareError(withChecksum("xyz"))).message).toBe(
        'server.conf:4: plugins.KeyManager "k".plugin_checksum: checksum is not a valid hex string',
      );
      expect((await declareError(withChecksum("abc"))).detail).toBe("checksum is not a valid hex string");
      expect((await declareError(withChecksum("ab".repeat(20)))).detail).toBe("expected checksum of length 64; got 40");
    });

    it("refuses an empty plugin_data_file and a malformed plugin_package", async () => {
      expect((await declareError('plugins {\n  KeyManager "k" { plugin_data_file = "" }\n}')).detail).toBe("must not be empty");
      expect((await declareError('plugins {\n  KeyManager "k" { plugin_package = "../evil" }\n}')).detail).toBe(
        'not an npm package name: "../evil"',
      );
    });

    it("refuses repeated plugin_data blocks that set the same key", async () => {
      const error = await declareError('plugins {\n  KeyManager "k" {\n    plugin_data { a = 1 }\n    plugin_data { a = 2 }\n  }\n}');
      expect(error.path).toBe('plugins.KeyManager "k".plugin_data.a');
      expect(error.detail).toBe("set more than once");
    });
  });
});
