/**
 * `plugin_data` on both sides of the plugin boundary.
 *
 * Host side: SPIRE prints the `plugin_data` node back to HCL text and sends it
 * as `hcl_configuration`. Signet sends JSON text of the same object instead:
 * hcl v1's decoder (what SPIRE plugins call) reads JSON whenever the text
 * starts with `{`, and our SDK reads it without loading the HCL parser.
 *
 * Plugin side: the text is JSON from a Signet host or HCL from SPIRE.
 */
import { ConfigError } from "./errors.js";
import type { ConfigSource } from "./locate.js";
import { isJsonText, parseConfigText, parseJsonConfigText } from "./parse.js";
import type { Path } from "./path.js";
import { formatPath } from "./path.js";
import type { DecodeOptions } from "./decode.js";
import { decode } from "./decode.js";
import type { AnySchema, Infer } from "./schema.js";
import type { ConfigObject, ConfigValue } from "./tree.js";
import { isBlockList, isConfigObject } from "./tree.js";

export interface PluginDataOptions {
  /** Where the node sits (`plugins.KeyManager "disk".plugin_data`), for messages. */
  readonly at?: Path;
  readonly source?: ConfigSource;
}

/**
 * The `hcl_configuration` text for a `plugin_data` node: JSON of the object,
 * with hcl v1's one-element block lists unwrapped so it reads as a person
 * would write it; "" when the node is absent or an empty block (SPIRE sends
 * an empty string when there is no data).
 */
export function pluginDataText(node: ConfigValue | undefined, options: PluginDataOptions = {}): string {
  if (node === undefined) return "";
  const value = isBlockList(node) ? mergeBlocks(node, options) : node;
  if (isConfigObject(value) && Object.keys(value).length === 0) return "";
  return JSON.stringify(natural(value));
}

/** Repeated `plugin_data` blocks are one object (SPIRE merges them); a key in two of them is an error. */
function mergeBlocks(blocks: readonly ConfigObject[], options: PluginDataOptions): ConfigObject {
  if (blocks.length === 1) return blocks[0]!;
  const merged = new Map<string, ConfigValue>();
  for (const block of blocks) {
    for (const [key, value] of Object.entries(block)) {
      const previous = merged.get(key);
      if (previous === undefined) merged.set(key, value);
      else if (isBlockList(previous) && isBlockList(value)) merged.set(key, [...previous, ...value]);
      else {
        throw new ConfigError({
          file: options.source?.filename,
          path: formatPath([...(options.at ?? []), key]),
          detail: "set more than once",
        });
      }
    }
  }
  return Object.fromEntries(merged);
}

/** Unwraps one-element lists of objects under keys, recursively. */
function natural(value: ConfigValue): ConfigValue {
  if (Array.isArray(value)) return value.map(natural);
  if (!isConfigObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, isBlockList(item) && item.length === 1 ? natural(item[0]!) : natural(item)]),
  );
}

export interface PluginConfigOptions {
  /** Named in messages; defaults to "plugin configuration". */
  readonly filename?: string;
  readonly unknownKeys?: DecodeOptions["unknownKeys"];
}

/**
 * Decodes the `hcl_configuration` a plugin receives in Configure/Validate:
 * JSON (Signet hosts) without loading the HCL parser, HCL (SPIRE) with it.
 * Errors name the key: `keys_path: expected a string, got a list`.
 */
export async function decodePluginConfig<S extends AnySchema>(
  schema: S,
  hclConfiguration: string,
  options: PluginConfigOptions = {},
): Promise<Infer<S>> {
  const filename = options.filename ?? "plugin configuration";
  const tree =
    hclConfiguration.trim() === ""
      ? {}
      : isJsonText(hclConfiguration)
        ? parseJsonConfigText(hclConfiguration, { filename })
        : await parseConfigText(hclConfiguration, { filename });
  return decode(schema, tree, {
    source: { filename, text: hclConfiguration },
    unknownKeys: options.unknownKeys ?? "error",
  });
}
