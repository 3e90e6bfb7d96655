/**
 * The `plugins { ... }` section: every block shape SPIRE accepts, to one
 * list of declarations in declaration order.
 *
 *   KeyManager "disk" { plugin_data { ... } }        labelled
 *   NodeAttestor { join_token { } }                  nested
 *   WorkloadAttestor "unix" plugin_data { }          stacked keys
 *   { "KeyManager": { "disk": { ... } } }            JSON
 *
 * SPIRE's rules (pkg/common/catalog/config.go): a type+name declared twice is
 * an error, an unknown type is an error even when the block is disabled,
 * plugin_data and plugin_data_file exclude each other, an empty plugin_cmd
 * means built-in, an empty printed plugin_data means no data. Signet adds
 * plugin_package, and refuses keys no plugin block knows.
 */
import { resolve } from "node:path";
import type { ConfigSource, ConfigValue, Path } from "@signet/config";
import { asBlocks, bool, ConfigError, decode, describeValue, formatPath, keyLines, keyOccurrences, list, object, pluginDataText, raw, str } from "@signet/config";
import type { Side } from "../catalog/plugin-types.js";
import { pluginTypes } from "../catalog/plugin-types.js";
import type { PluginSource } from "../catalog/resolve.js";

export interface PluginDeclaration {
  readonly type: string;
  readonly name: string;
  /** plugin_cmd (absolute), plugin_package, or neither: Signet's packaged plugin for type+name. */
  readonly source: PluginSource;
  readonly args: readonly string[];
  /** plugin_checksum, lower-case hex sha256. */
  readonly checksum?: string;
  readonly data:
    | { readonly kind: "none" }
    | { readonly kind: "inline"; readonly text: string }
    | { readonly kind: "file"; readonly path: string };
  readonly enabled: boolean;
}

export interface PluginDeclarations {
  /** Enabled plugins, in declaration order. */
  readonly plugins: readonly PluginDeclaration[];
  /** Blocks with `enabled = false`: not loaded; SPIRE logs each at debug level. */
  readonly disabled: readonly PluginDeclaration[];
}

export interface PluginDeclarationOptions {
  readonly side: Side;
  /** Relative plugin_cmd and plugin_data_file paths are resolved against this (default: process.cwd(), as SPIRE). */
  readonly cwd?: string;
  /** The configuration text, for line numbers and for declaration order (hcl v1's tree sorts keys). */
  readonly source?: ConfigSource;
}

const pluginBlockSchema = object({
  plugin_cmd: str().optional(),
  plugin_package: str().optional(),
  plugin_args: list(str()).optional(),
  plugin_checksum: str().optional(),
  plugin_data: raw().optional(),
  plugin_data_file: str().optional(),
  enabled: bool().default(true),
});

interface RawDeclaration {
  readonly type: string;
  readonly name: string;
  readonly body: ConfigValue;
}

export function parsePluginDeclarations(pluginsNode: ConfigValue | undefined, options: PluginDeclarationOptions): PluginDeclarations {
  const { source } = options;
  const found = inDeclarationOrder(collect(pluginsNode, source), source);
  rejectDuplicates(found, source);

  const plugins: PluginDeclaration[] = [];
  const disabled: PluginDeclaration[] = [];
  for (const raw of found) {
    const declaration = declarationFrom(raw, options);
    (declaration.enabled ? plugins : disabled).push(declaration);
  }
  return { plugins, disabled };
}

/** Walks plugins → type → name → body, whatever mix of block lists hcl v1 produced. */
function collect(pluginsNode: ConfigValue | undefined, source: ConfigSource | undefined): RawDeclaration[] {
  if (pluginsNode === undefined) return [];
  const fail = (path: Path, detail: string) => new ConfigError({ file: source?.filename, line: lineOf(source, path), path: formatPath(path), detail });
  const blocks = asBlocks(pluginsNode);
  if (blocks === undefined) throw fail(["plugins"], `expected a block, got ${describeValue(pluginsNode)}`);

  const found: RawDeclaration[] = [];
  for (const block of blocks) {
    for (const [type, typeNode] of Object.entries(block)) {
      const typeBlocks = asBlocks(typeNode);
      if (typeBlocks === undefined) {
        throw fail(["plugins", type], `expected plugin blocks (${type} "name" { ... }), got ${describeValue(typeNode)}`);
      }
      for (const typeBlock of typeBlocks) {
        for (const [name, body] of Object.entries(typeBlock)) {
          // `KeyManager { disk { } disk { } }` gives one name with two bodies.
          const bodies = asBlocks(body);
          if (bodies === undefined) throw fail(["plugins", type, { label: name }], `expected a block, got ${describeValue(body)}`);
          for (const one of bodies) found.push({ type, name, body: one });
        }
      }
    }
  }
  return found;
}

/**
 * hcl v1's generic tree sorts object keys, so the order of plugins of
 * different types (and of nested-form names) is lost; the source text has
 * it, the way SPIRE's determinePluginOrder walks the AST.
 */
function inDeclarationOrder(found: RawDeclaration[], source: ConfigSource | undefined): RawDeclaration[] {
  if (source === undefined) return found;
  const order = new Map<string, number>();
  for (const occurrence of keyOccurrences(source)) {
    const [root, type, name] = occurrence.chain;
    if (occurrence.chain.length < 3 || root!.toLowerCase() !== "plugins") continue;
    const key = identity(type!, name!);
    if (!order.has(key)) order.set(key, order.size);
  }
  const rank = (d: RawDeclaration) => order.get(identity(d.type, d.name)) ?? Number.MAX_SAFE_INTEGER;
  return found
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
    .map(({ d }) => d);
}

function rejectDuplicates(found: readonly RawDeclaration[], source: ConfigSource | undefined): void {
  const seen = new Set<string>();
  for (const { type, name } of found) {
    const key = identity(type, name);
    if (seen.has(key)) {
      const lines = source === undefined ? [] : keyLines(source, ["plugins", type, { label: name }]);
      throw new ConfigError({
        file: source?.filename,
        detail: `plugin ${JSON.stringify(type)}/${JSON.stringify(name)} declared more than once${lines.length > 1 ? ` (lines ${lines.join(", ")})` : ""}`,
      });
    }
    seen.add(key);
  }
}

function declarationFrom({ type, name, body }: RawDeclaration, options: PluginDeclarationOptions): PluginDeclaration {
  const { source, side } = options;
  const at: Path = ["plugins", type, { label: name }];
  const fail = (detail: string, key?: string) => {
    const path = key === undefined ? at : [...at, key];
    return new ConfigError({ file: source?.filename, line: lineOf(source, path), path: formatPath(path), detail });
  };

  if (!Object.prototype.hasOwnProperty.call(pluginTypes[side], type)) {
    throw new ConfigError({
      file: source?.filename,
      line: lineOf(source, at),
      path: formatPath(at),
      detail: `unsupported plugin type ${JSON.stringify(type)} (the ${side} loads ${Object.keys(pluginTypes[side]).join(", ")})`,
    });
  }
  const block = decode(pluginBlockSchema, body, { at, ...(source ? { source } : {}) });
  const cwd = options.cwd ?? process.cwd();

  const cmd = block.plugin_cmd ?? "";
  if (cmd !== "" && block.plugin_package !== undefined) throw fail("only one of [plugin_cmd, plugin_package] can be used");
  if (block.plugin_data !== undefined && block.plugin_data_file !== undefined) {
    throw fail("only one of [plugin_data, plugin_data_file] can be used");
  }

  let pluginSource: PluginSource = { kind: "builtin" };
  if (cmd !== "") pluginSource = { kind: "cmd", path: resolve(cwd, cmd) };
  else if (block.plugin_package !== undefined) {
    if (!isPackageName(block.plugin_package)) throw fail(`not an npm package name: ${JSON.stringify(block.plugin_package)}`, "plugin_package");
    pluginSource = { kind: "package", packageName: block.plugin_package };
  }

  let data: PluginDeclaration["data"] = { kind: "none" };
  if (block.plugin_data_file !== undefined) {
    if (block.plugin_data_file === "") throw fail("must not be empty", "plugin_data_file");
    data = { kind: "file", path: resolve(cwd, block.plugin_data_file) };
  } else if (block.plugin_data !== undefined) {
    const text = pluginDataText(block.plugin_data, { at: [...at, "plugin_data"], ...(source ? { source } : {}) });
    if (text !== "") data = { kind: "inline", text };
  }

  const checksum = block.plugin_checksum ?? "";
  return {
    type,
    name,
    source: pluginSource,
    args: block.plugin_args ?? [],
    ...(checksum !== "" ? { checksum: validChecksum(checksum, fail) } : {}),
    data,
    enabled: block.enabled,
  };
}

/** SPIRE's buildSecureConfig checks, with its wording. */
function validChecksum(checksum: string, fail: (detail: string, key?: string) => ConfigError): string {
  if (!/^[0-9a-fA-F]*$/.test(checksum) || checksum.length % 2 !== 0) throw fail("checksum is not a valid hex string", "plugin_checksum");
  if (checksum.length !== 64) throw fail(`expected checksum of length 64; got ${checksum.length}`, "plugin_checksum");
  return checksum.toLowerCase();
}

function isPackageName(name: string): boolean {
  return /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name) && name.length <= 214;
}

function identity(type: string, name: string): string {
  return `${type}\u0000${name}`;
}

function lineOf(source: ConfigSource | undefined, path: Path): number | undefined {
  if (source === undefined) return undefined;
  const lines = keyLines(source, path);
  return lines.length === 1 ? lines[0] : undefined;
}
