/** `entry show` [Entry/GetEntry, or Entry/ListEntries in pages of 500] */
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { CliError, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { formatEntryList, sortEntries } from "../print/entry.js";
import { listEntriesResponse } from "../print/schemas.js";
import { entryFilterFlags } from "./filter.js";

export const listEntriesPageSize = 500;

export const entryShow = apiCommand({
  name: "entry show",
  synopsis: "Displays configured registration entries",
  define(fs) {
    const entryID = fs.string("entryID", "", "The Entry ID of the records to show");
    const filter = entryFilterFlags(fs, "show");
    return async ({ env, client, printer }) => {
      if (entryID.value !== "" && (filter.parentID.value !== "" || filter.spiffeID.value !== "" || filter.selectors.value.length > 0)) {
        throw new CliError("the -entryID flag can't be combined with others");
      }
      const entries: Entry[] = [];
      if (entryID.value !== "") {
        try {
          entries.push(await client.entry.getEntry({ id: entryID.value, outputMask: undefined }));
        } catch (e) {
          throw wrap(`error fetching entry ID ${entryID.value}`, e);
        }
      } else {
        const f = filter.build();
        let pageToken = "";
        do {
          let resp;
          try {
            resp = await client.entry.listEntries({ filter: f, outputMask: undefined, pageSize: listEntriesPageSize, pageToken });
          } catch (e) {
            throw wrap("error fetching entries", e);
          }
          entries.push(...resp.entries);
          pageToken = resp.nextPageToken;
        } while (pageToken !== "");
      }
      sortEntries(entries);
      await printer.proto(listEntriesResponse, { entries, nextPageToken: "" }, (r) => env.stdout(formatEntryList(r.entries)));
    };
  },
});
