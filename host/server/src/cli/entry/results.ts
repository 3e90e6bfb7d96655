/** Pretty output of BatchCreate/BatchUpdateEntry results (successes on stdout, failures on stderr). */
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Status } from "@signet/proto/spire/api/types/status";
import { type CliEnv, CliError, goQuote } from "@signet/host-common";
import { codeString } from "../parse.js";
import { formatEntry } from "../print/entry.js";

export interface EntryResult {
  status: Status | undefined;
  entry: Entry | undefined;
}

/** Failed results carry the entry that was sent, as SPIRE's createEntries/updateEntries arrange. */
export function attachRequested(results: EntryResult[], sent: readonly Entry[]): void {
  results.forEach((r, i) => {
    if ((r.status?.code ?? 0) !== 0) r.entry = sent[i];
  });
}

export function printEntryResults(env: CliEnv, results: readonly EntryResult[], verb: "create" | "update"): void {
  const ok = results.filter((r) => (r.status?.code ?? 0) === 0);
  const failed = results.filter((r) => (r.status?.code ?? 0) !== 0);
  for (const r of ok) if (r.entry) env.stdout(formatEntry(r.entry));
  for (const r of failed) {
    env.stderr(`Failed to ${verb} the following entry (code: ${codeString(r.status!.code)}, msg: ${goQuote(r.status!.message)}):\n`);
    if (r.entry) env.stderr(formatEntry(r.entry));
  }
  if (failed.length > 0) throw new CliError(`failed to ${verb} one or more entries`);
}
