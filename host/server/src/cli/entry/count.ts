/** `entry count` [Entry/CountEntries] */
import { apiCommand } from "../command.js";
import { count } from "../print/schemas.js";
import { entryFilterFlags } from "./filter.js";

export const entryCount = apiCommand({
  name: "entry count",
  synopsis: "Count registration entries",
  define(fs) {
    const filter = entryFilterFlags(fs, "count");
    return async ({ env, client, printer }) => {
      const resp = await client.entry.countEntries({ filter: filter.build() });
      await printer.proto(count, resp, (r) => env.stdout(`${r.count} registration ${r.count === 1 ? "entry" : "entries"}\n`));
    };
  },
});
