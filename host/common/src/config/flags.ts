/**
 * Command-line overrides (`signet-server run -config f -trustDomain x`):
 * flags win over the file. They are applied to the parsed tree, before
 * decoding, so a required key may come from a flag alone and flag values go
 * through the same schema checks and defaults as file values.
 *
 * A flag left undefined was not given and does not override. (SPIRE merges
 * with mergo, where a zero value such as "" or false cannot override either;
 * here any given value wins.)
 */
import type { ConfigObject, ConfigValue } from "@signet/config";
import { asBlocks, ConfigError, describeValue } from "@signet/config";

export type FlagValue = string | number | boolean | readonly string[];

/**
 * A copy of `tree` where the `section` block (e.g. "server") has each key of
 * `overrides` set to the flag's value. Keys are the file's (snake_case) names.
 */
export function applyFlagOverrides(
  tree: ConfigObject,
  section: string,
  overrides: Readonly<Record<string, FlagValue | undefined>>,
): ConfigObject {
  const given = Object.entries(overrides).filter((entry): entry is [string, FlagValue] => entry[1] !== undefined);
  if (given.length === 0) return tree;

  // hcl v1 matches keys case-insensitively: `Server { }` is the server block too.
  const overridden = new Set(given.map(([key]) => key.toLowerCase()));
  const withoutOverridden = (block: ConfigObject) =>
    Object.fromEntries(Object.entries(block).filter(([key]) => !overridden.has(key.toLowerCase())));
  const fromFlags: ConfigObject = Object.fromEntries(given.map(([key, value]) => [key, toConfigValue(value)]));

  const entries: [string, ConfigValue][] = [];
  let placed = false;
  for (const [key, value] of Object.entries(tree)) {
    if (key.toLowerCase() !== section.toLowerCase()) {
      entries.push([key, value]);
      continue;
    }
    const blocks = asBlocks(value);
    if (blocks === undefined) throw new ConfigError({ path: key, detail: `expected a block, got ${describeValue(value)}` });
    const kept = blocks.map(withoutOverridden);
    entries.push([key, placed ? kept : [...kept, fromFlags]]);
    placed = true;
  }
  if (!placed) entries.push([section, [fromFlags]]);
  return Object.fromEntries(entries);
}

function toConfigValue(value: FlagValue): ConfigValue {
  return Array.isArray(value) ? [...(value as readonly string[])] : (value as ConfigValue);
}
