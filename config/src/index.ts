export { ConfigError } from "./errors.js";
export type { ConfigErrorInit } from "./errors.js";
export { parseConfigText, parseJsonConfigText, isJsonText } from "./parse.js";
export type { ParseOptions } from "./parse.js";
export { expandEnv, goExpand } from "./env.js";
export type { Environment } from "./env.js";
export { parseGoDuration, parseGoDurationNanos, GoDurationError } from "./duration.js";
export { parseGoInt } from "./strconv.js";
export { decode, unknownKeysError } from "./decode.js";
export type { DecodeOptions, UnknownKey } from "./decode.js";
export {
  str,
  int,
  num,
  bool,
  duration,
  oneOf,
  list,
  object,
  map,
  raw,
  custom,
  Schema,
  OptionalSchema,
} from "./schema.js";
export type {
  AnySchema,
  Infer,
  IntOptions,
  OneOfOptions,
  ObjectOptions,
  ObjectOutput,
  Shape,
} from "./schema.js";
export { pluginDataText, decodePluginConfig } from "./plugin-data.js";
export type { PluginDataOptions, PluginConfigOptions } from "./plugin-data.js";
export { formatPath } from "./path.js";
export type { Path, PathSegment } from "./path.js";
export { keyLine, keyLines, keyOccurrences } from "./locate.js";
export type { ConfigSource, KeyOccurrence } from "./locate.js";
export { asBlocks, isBlockList, isConfigObject, describeValue } from "./tree.js";
export type { ConfigValue, ConfigObject, ConfigList } from "./tree.js";
