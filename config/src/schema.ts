/**
 * A small schema language for configuration, decoding hcl v1-shaped trees
 * into typed values with messages that name the full key path:
 *
 *   const serverSchema = object({
 *     trust_domain: str(),
 *     bind_port: int({ min: 0, max: 65535 }).default(8081),
 *     ca_ttl: duration().default(24 * 3600_000),
 *     log_level: oneOf(["DEBUG", "INFO", "WARN", "ERROR"], { ignoreCase: true }).default("INFO"),
 *   });
 *   const server = decode(serverSchema, tree.server, { at: ["server"], source });
 *
 * Scalars are read as hcl v1 reads them into Go fields, so SPIRE's files
 * decode unchanged: a number or boolean is accepted where a string is
 * expected, a quoted integer where an integer is, "true"/"1" where a boolean
 * is. Keys match case-insensitively (hcl v1 does). Repeated blocks merge, as
 * they do in SPIRE; a scalar key set in two of them is an error.
 */

import { GoDurationError, parseGoDurationNanos } from "./duration.js";
import type { DecodeContext } from "./decode.js";
import { ConfigError } from "./errors.js";
import type { Path } from "./path.js";
import { formatPath } from "./path.js";
import { parseGoInt } from "./strconv.js";
import type { ConfigValue } from "./tree.js";
import { asBlocks, describeValue, hasOwn, isConfigObject } from "./tree.js";

// ---------------------------------------------------------------- schema base

/** How several occurrences of the same key combine: blocks concatenate, scalars may not repeat. */
type Repeat = "concat" | "forbid";

export abstract class Schema<T> {
  /** How this schema is named in "expected ..." messages. */
  abstract readonly expected: string;
  /** @internal */
  readonly repeat: Repeat = "forbid";

  /** @internal Decodes a present value. */
  abstract decodeValue(value: ConfigValue, context: DecodeContext, path: Path): T;

  /** @internal The value when the key is absent (or unset, see isUnset). */
  absent(context: DecodeContext, path: Path): T {
    throw context.error(path, "required but not set");
  }

  /** @internal Values that mean "not set" (Go-style empty strings for durations). */
  isUnset(_value: ConfigValue): boolean {
    return false;
  }

  /** The key may be left out; the decoded object then has no such property. */
  optional(): OptionalSchema<T> {
    return new OptionalSchema(this);
  }

  /** The key may be left out and then takes `value`. */
  default(value: T): Schema<T> {
    return new DefaultSchema(this, value);
  }
}

export type AnySchema = Schema<unknown>;
export type Infer<S> = S extends Schema<infer T> ? T : never;

export class OptionalSchema<T> extends Schema<T | undefined> {
  /** @internal Marks keys that the object type makes optional. */
  readonly isOptional = true as const;
  override readonly repeat: Repeat;
  readonly expected: string;

  constructor(readonly inner: Schema<T>) {
    super();
    this.repeat = inner.repeat;
    this.expected = inner.expected;
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): T {
    return this.inner.decodeValue(value, context, path);
  }

  override absent(): undefined {
    return undefined;
  }

  override isUnset(value: ConfigValue): boolean {
    return this.inner.isUnset(value);
  }
}

class DefaultSchema<T> extends Schema<T> {
  override readonly repeat: Repeat;
  readonly expected: string;

  constructor(
    readonly inner: Schema<T>,
    readonly fallback: T,
  ) {
    super();
    this.repeat = inner.repeat;
    this.expected = inner.expected;
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): T {
    return this.inner.decodeValue(value, context, path);
  }

  override absent(): T {
    return this.fallback;
  }

  override isUnset(value: ConfigValue): boolean {
    return this.inner.isUnset(value);
  }
}

function mismatch(context: DecodeContext, path: Path, expected: string, value: ConfigValue): ConfigError {
  const shown = typeof value === "string" ? JSON.stringify(value) : describeValue(value);
  return context.error(path, `expected ${expected}, got ${shown}`);
}

// ---------------------------------------------------------------- scalars

class StringSchema extends Schema<string> {
  readonly expected = "a string";

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): string {
    const text = scalarText(value);
    if (text === undefined) throw context.error(path, `expected a string, got ${describeValue(value)}`);
    return text;
  }
}

/** Strings, and numbers and booleans as their text (hcl v1 decodes those into string fields too). */
function scalarText(value: ConfigValue): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export interface IntOptions {
  readonly min?: number;
  readonly max?: number;
}

class IntSchema extends Schema<number> {
  readonly expected = "an integer";

  constructor(readonly options: IntOptions) {
    super();
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): number {
    let n: number | undefined;
    if (typeof value === "number") n = Number.isSafeInteger(value) ? value : undefined;
    else if (typeof value === "string") n = parseGoInt(value);
    if (n === undefined) {
      if (typeof value === "number") throw context.error(path, `expected an integer, got ${value}`);
      throw mismatch(context, path, this.expected, value);
    }
    const { min, max } = this.options;
    if (min !== undefined && n < min) throw context.error(path, `must be at least ${min}, got ${n}`);
    if (max !== undefined && n > max) throw context.error(path, `must be at most ${max}, got ${n}`);
    return n;
  }
}

class NumberSchema extends Schema<number> {
  readonly expected = "a number";

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): number {
    if (typeof value !== "number") throw mismatch(context, path, this.expected, value);
    return value;
  }
}

class BoolSchema extends Schema<boolean> {
  readonly expected = "a boolean";

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): boolean {
    if (typeof value === "boolean") return value;
    // hcl v1's decodeBool: "1"/"true" and "0"/"false", any case, quoted or not.
    const text = typeof value === "number" || typeof value === "string" ? String(value).toLowerCase() : undefined;
    if (text === "1" || text === "true") return true;
    if (text === "0" || text === "false") return false;
    throw mismatch(context, path, this.expected, value);
  }
}

class DurationSchema extends Schema<number> {
  readonly expected = 'a duration ("1h30m", "300ms")';

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): number {
    const text = scalarText(value);
    if (text === undefined) throw context.error(path, `expected a duration, got ${describeValue(value)}`);
    try {
      return Number(parseGoDurationNanos(text)) / 1e6;
    } catch (error) {
      if (error instanceof GoDurationError) throw context.error(path, error.configDetail, error);
      throw error;
    }
  }

  /** SPIRE leaves a duration at its default when the string is empty. */
  override isUnset(value: ConfigValue): boolean {
    return value === "";
  }
}

export interface OneOfOptions {
  /** Accept any case and return the listed spelling. */
  readonly ignoreCase?: boolean;
}

class OneOfSchema<V extends string> extends Schema<V> {
  readonly expected: string;

  constructor(
    readonly values: readonly V[],
    readonly options: OneOfOptions,
  ) {
    super();
    this.expected = `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): V {
    const text = scalarText(value);
    if (text !== undefined) {
      const found = this.options.ignoreCase
        ? this.values.find((v) => v.toLowerCase() === text.toLowerCase())
        : this.values.find((v) => v === text);
      if (found !== undefined) return found;
    }
    throw mismatch(context, path, this.expected, value);
  }
}

class CustomSchema<T> extends Schema<T> {
  constructor(
    readonly expected: string,
    readonly parse: (value: ConfigValue) => T,
  ) {
    super();
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): T {
    try {
      return this.parse(value);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw context.error(path, error instanceof Error ? error.message : String(error), error);
    }
  }
}

/** The value as it is in the tree (for nodes decoded later, like `plugins` or `plugin_data`). */
class RawSchema extends Schema<ConfigValue> {
  readonly expected = "a value";
  override readonly repeat: Repeat = "concat";

  decodeValue(value: ConfigValue): ConfigValue {
    return value;
  }
}

// ---------------------------------------------------------------- containers

class ListSchema<T> extends Schema<T[]> {
  readonly expected: string;
  override readonly repeat: Repeat = "concat";

  constructor(readonly item: Schema<T>) {
    super();
    this.expected = "a list";
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): T[] {
    // hcl v1 decodes a single object into a list of one.
    const items = Array.isArray(value) ? value : isConfigObject(value) ? [value] : undefined;
    if (items === undefined) throw context.error(path, `expected a list, got ${describeValue(value)}`);
    return items.map((item, i) => this.item.decodeValue(item, context, [...path, i]));
  }
}

export type Shape = { readonly [key: string]: AnySchema };

type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { readonly isOptional: true } ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOutput<S extends Shape> = Simplify<
  { readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    readonly [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
  }
>;

export interface ObjectOptions {
  /** Leave unknown keys of this block unreported (SPIRE skips the check for `experimental`, `federation`, `telemetry`). */
  readonly allowUnknownKeys?: boolean;
}

class ObjectSchema<S extends Shape> extends Schema<ObjectOutput<S>> {
  readonly expected = "a block";
  override readonly repeat: Repeat = "concat";
  private readonly names: readonly string[];

  constructor(
    readonly shape: S,
    readonly options: ObjectOptions,
  ) {
    super();
    this.names = Object.keys(shape);
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): ObjectOutput<S> {
    const blocks = asBlocks(value);
    if (blocks === undefined) throw context.error(path, `expected a block, got ${describeValue(value)}`);

    const occurrences = new Map<string, ConfigValue[]>();
    for (const block of blocks) {
      for (const [key, item] of Object.entries(block)) {
        const name = this.fieldName(key);
        if (name === undefined) {
          if (!this.options.allowUnknownKeys) context.addUnknown([...path, key], this.names);
          continue;
        }
        const list = occurrences.get(name) ?? [];
        list.push(item);
        occurrences.set(name, list);
      }
    }

    const out: Record<string, unknown> = {};
    for (const name of this.names) {
      const schema = this.shape[name]!;
      const fieldPath = [...path, name];
      const found = occurrences.get(name);
      const item = found === undefined ? undefined : combine(found, schema, context, fieldPath);
      const decoded =
        item === undefined || schema.isUnset(item)
          ? schema.absent(context, fieldPath)
          : schema.decodeValue(item, context, fieldPath);
      if (decoded !== undefined) Object.defineProperty(out, name, { value: decoded, enumerable: true, writable: true, configurable: true });
    }
    return out as ObjectOutput<S>;
  }

  /** An absent block decodes as an empty one, so its defaults (and required keys) apply. */
  override absent(context: DecodeContext, path: Path): ObjectOutput<S> {
    return this.decodeValue({}, context, path);
  }

  /** Exact match first, then hcl v1's case-insensitive match. */
  private fieldName(key: string): string | undefined {
    if (hasOwn(this.shape, key)) return key;
    const lower = key.toLowerCase();
    return this.names.find((name) => name.toLowerCase() === lower);
  }
}

class MapSchema<T> extends Schema<Readonly<Record<string, T>>> {
  readonly expected: string;
  override readonly repeat: Repeat = "concat";

  constructor(readonly value: Schema<T>) {
    super();
    this.expected = "a block";
  }

  decodeValue(value: ConfigValue, context: DecodeContext, path: Path): Readonly<Record<string, T>> {
    const blocks = asBlocks(value);
    if (blocks === undefined) throw context.error(path, `expected a block, got ${describeValue(value)}`);
    const occurrences = new Map<string, ConfigValue[]>();
    for (const block of blocks) {
      for (const [key, item] of Object.entries(block)) {
        const list = occurrences.get(key) ?? [];
        list.push(item);
        occurrences.set(key, list);
      }
    }
    const entries: [string, T][] = [];
    for (const [key, found] of occurrences) {
      const entryPath: Path = [...path, { label: key }];
      entries.push([key, this.value.decodeValue(combine(found, this.value, context, entryPath), context, entryPath)]);
    }
    return Object.fromEntries(entries);
  }
}

/**
 * Several occurrences of one key (from repeated blocks) become one value:
 * blocks and lists concatenate, as hcl v1 merges them into one Go value;
 * a scalar given twice is ambiguous and refused.
 */
function combine(found: ConfigValue[], schema: AnySchema, context: DecodeContext, path: Path): ConfigValue {
  if (found.length === 1) return found[0]!;
  if (schema.repeat === "forbid") {
    const lines = context.lines(path);
    const where = lines.length > 1 ? ` (lines ${lines.join(", ")})` : "";
    throw new ConfigError({
      file: context.source?.filename,
      path: formatPath(path),
      detail: `set more than once${where}`,
    });
  }
  return found.flatMap((item) => (Array.isArray(item) ? item : [item]));
}

// ---------------------------------------------------------------- constructors

export function str(): Schema<string> {
  return new StringSchema();
}

export function int(options: IntOptions = {}): Schema<number> {
  return new IntSchema(options);
}

export function num(): Schema<number> {
  return new NumberSchema();
}

export function bool(): Schema<boolean> {
  return new BoolSchema();
}

/** A Go duration string, decoded to milliseconds. An empty string counts as not set. */
export function duration(): Schema<number> {
  return new DurationSchema();
}

export function oneOf<const V extends string>(values: readonly V[], options: OneOfOptions = {}): Schema<V> {
  return new OneOfSchema(values, options);
}

export function list<T>(item: Schema<T>): Schema<T[]> {
  return new ListSchema(item);
}

export function object<S extends Shape>(shape: S, options: ObjectOptions = {}): Schema<ObjectOutput<S>> {
  return new ObjectSchema(shape, options);
}

/** A block whose keys are free (e.g. `federates_with "td" { ... }`), each value decoded by `value`. */
export function map<T>(value: Schema<T>): Schema<Readonly<Record<string, T>>> {
  return new MapSchema(value);
}

export function raw(): Schema<ConfigValue> {
  return new RawSchema();
}

/** A value checked by `parse`; an Error it throws becomes a ConfigError at the key. */
export function custom<T>(expected: string, parse: (value: ConfigValue) => T): Schema<T> {
  return new CustomSchema(expected, parse);
}
