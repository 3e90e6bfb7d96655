/** `entry delete` [Entry/BatchDeleteEntry] */
import { CliError, goQuote, readInput } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { codeString } from "../parse.js";
import { batchDeleteEntryResponse } from "../print/schemas.js";

export const entryDelete = apiCommand({
  name: "entry delete",
  synopsis: "Deletes registration entries",
  define(fs) {
    const entryID = fs.string("entryID", "", "The Registration Entry ID of the record to delete.");
    const file = fs.string("file", "", "Path to a file containing a JSON structure for batch deletion (optional). If set to '-', read from stdin.");
    return async ({ env, client, printer }) => {
      let ids: string[];
      if (file.value !== "") {
        ids = parseDeleteJson(await readInput(env, file.value));
      } else {
        if (entryID.value === "") throw new CliError("an entry ID is required");
        ids = [entryID.value];
      }
      const resp = await client.entry.batchDeleteEntry({ ids });
      await printer.proto(batchDeleteEntryResponse, resp, (r) => {
        const ok = r.results.filter((x) => (x.status?.code ?? 0) === 0);
        const failed = r.results.filter((x) => (x.status?.code ?? 0) !== 0);
        for (const x of ok) env.stdout(`Deleted entry with ID: ${x.id}\n`);
        if (ok.length > 0) env.stdout("\n\n");
        for (const x of failed) {
          env.stderr(`Failed to delete entry with ID ${x.id} (code: ${codeString(x.status!.code)}, msg: ${goQuote(x.status!.message)})\n`);
        }
        if (failed.length > 0) {
          env.stdout("\n\n");
          env.stdout(
            ok.length === 0
              ? `Failed to delete ${failed.length} entries`
              : `Deleted ${ok.length} entries successfully, but failed to delete ${failed.length} entries`,
          );
          throw new CliError("failed to delete one or more entries");
        }
        env.stdout(`Deleted ${ok.length} entries successfully`);
      });
    };
  },
});

/** The -file document: a BatchDeleteEntryRequest as encoding/json reads it, `{"ids": [...]}`. */
export function parseDeleteJson(data: Uint8Array): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(data).toString("utf8"));
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (doc === null) return [];
  if (typeof doc !== "object" || Array.isArray(doc)) throw new CliError("json: cannot unmarshal non-object into Go value of type entryv1.BatchDeleteEntryRequest");
  const key = Object.keys(doc).find((k) => k.toLowerCase() === "ids");
  const ids = key === undefined ? undefined : (doc as Record<string, unknown>)[key];
  if (ids === undefined || ids === null) return [];
  if (!Array.isArray(ids) || ids.some((x) => typeof x !== "string" && x !== null)) {
    throw new CliError("json: cannot unmarshal into Go struct field BatchDeleteEntryRequest.ids of type []string");
  }
  return ids.map((x) => (x as string | null) ?? "");
}
