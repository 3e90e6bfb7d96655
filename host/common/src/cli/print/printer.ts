/**
 * spire-server's `-output` flag and printer (cliprinter): pretty output is
 * each command's own text; json is protojson for API messages and plain
 * encoding/json for the few results that are not messages.
 */
import type { CliEnv } from "../env.js";
import { type Box, type FlagSet, goQuote } from "../flags.js";
import { formatProtoJson, goJsonStruct, type MessageSchema } from "./protojson.js";

export type OutputFormat = "pretty" | "json";

export function parseOutputFormat(text: string): OutputFormat {
  switch (text.toLowerCase()) {
    case "json":
      return "json";
    case "pretty":
    case "prettyprint":
      return "pretty";
    default:
      throw new Error(`bad formatter flag: unknown format option: ${goQuote(text)}`);
  }
}

/** Adds `-output` to a command's flags. */
export function outputFlag(fs: FlagSet): Box<OutputFormat> {
  const box: Box<OutputFormat> = { value: "pretty", set: false };
  // Go prints no "(default …)" here: the flag's zero value already reads "pretty".
  fs.custom("output", "Desired output format (pretty, json); default: pretty.", "", (text) => {
    if (box.set && box.value !== text) {
      throw new Error(`the output format has already been set to ${goQuote(box.value)}`);
    }
    box.value = parseOutputFormat(text);
    box.set = true;
  });
  return box;
}

export class Printer {
  constructor(
    private readonly env: CliEnv,
    private readonly format: () => OutputFormat,
  ) {}

  /** Prints an API message; `pretty` may throw to make the command fail after printing. */
  async proto<T>(schema: MessageSchema, message: T, pretty: (message: T) => void | Promise<void>): Promise<void> {
    if (this.format() === "json") this.env.stdout(formatProtoJson(schema, message));
    else await pretty(message);
  }

  /** Prints a plain result (struct), e.g. `agent purge` and `x509 mint`. */
  async struct<T>(value: T, pretty: (value: T) => void | Promise<void>): Promise<void> {
    if (this.format() === "json") this.env.stdout(`${goJsonStruct(value)}\n`);
    else await pretty(value);
  }
}
