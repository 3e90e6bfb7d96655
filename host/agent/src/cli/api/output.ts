/** `-output` (and fetch jwt's deprecated `-format` twin) for the api commands, as SPIRE's cliprinter flag. */
import { type Box, type FlagSet, goQuote, type OutputFormat, outputFlag, parseOutputFormat } from "@signet/host-common";

export function addOutputFlag(fs: FlagSet, withFormatAlias = false): Box<OutputFormat> {
  const box = outputFlag(fs);
  if (withFormatAlias) {
    // Both names set one value, so the same conflict rule applies across them.
    fs.custom("format", "deprecated; use -output", "", (text) => {
      if (box.set && box.value !== text) throw new Error(`the output format has already been set to ${goQuote(box.value)}`);
      box.value = parseOutputFormat(text);
      box.set = true;
    });
  }
  return box;
}
