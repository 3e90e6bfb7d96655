/** CLI plumbing both hosts' command lines share (flags, dispatch, errors, printing), in SPIRE's CLI conventions. */
export { type Command, parseFlags } from "./command.js";
export { type CliProgram, dispatch } from "./dispatch.js";
export { type CliEnv, processEnv, readInput, resolvePath } from "./env.js";
export { CliError, errnoWords, errorText, fileErrorText, wrap } from "./errors.js";
export { translateDialError } from "./dial-error.js";
export {
  type Box,
  FlagParseError,
  FlagSet,
  FlagValueError,
  formatGoDuration,
  goQuote,
  parseBool,
  parseIntFlag,
} from "./flags.js";
export { type OutputFormat, outputFlag, parseOutputFormat, Printer } from "./print/printer.js";
export {
  type FieldSchema,
  type Kind,
  type MessageSchema,
  formatProtoJson,
  goJsonSorted,
  goJsonStruct,
  protoJsonValue,
} from "./print/protojson.js";
export { goLocalString, goRfc3339Utc, goUtcString } from "./print/time.js";
export { missingConfigError } from "./config-file.js";
