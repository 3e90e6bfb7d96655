/**
 * The plain tree a configuration file parses to.
 *
 * It has the shape hashicorp/hcl v1 gives when decoding into a generic value,
 * which is what SPIRE's parser sees: every block, and every object that is the
 * value of a key, is a list of objects (`ca_subject { country = ["US"] }` is
 * `{ "ca_subject": [{ "country": ["US"] }] }`), and repeated blocks are
 * further entries of that list. JSON input is brought to the same shape.
 */
export type ConfigValue = string | number | boolean | ConfigList | ConfigObject;
export type ConfigList = ConfigValue[];
export interface ConfigObject {
  [key: string]: ConfigValue;
}

export function isConfigObject(value: unknown): value is ConfigObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-empty list whose entries are all objects: how blocks appear in the tree. */
export function isBlockList(value: unknown): value is ConfigObject[] {
  return Array.isArray(value) && value.length > 0 && value.every(isConfigObject);
}

/**
 * The blocks a value stands for: an object is one block, a list of objects
 * is one block per entry; anything else is not a block (undefined).
 */
export function asBlocks(value: unknown): ConfigObject[] | undefined {
  if (isConfigObject(value)) return [value];
  if (isBlockList(value)) return value;
  return undefined;
}

/** How a value is named in "expected X, got Y" messages. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  if (value === undefined || value === null) return "nothing";
  if (isConfigObject(value)) return "a block";
  if (isBlockList(value)) return value.length === 1 ? "a block" : `${value.length} blocks`;
  return "a list";
}

export function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}
