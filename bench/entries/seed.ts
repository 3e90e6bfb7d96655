/**
 * Writes the bench dataset straight into the SQL DataStore's tables, in big
 * transactions, with the plugin's own validation and row builders. Creating
 * 100k entries through CreateEntries (one transaction per item, as SPIRE
 * does) takes many minutes on a shared machine and is not what this bench
 * measures; the harness times a sample of API writes separately.
 */
import { randomUUID } from "node:crypto";
import { openDatabase } from "../../plugins/datastore-sql/src/connection.js";
import type { SqlConfig } from "../../plugins/datastore-sql/src/datastore.js";
import { validateEntry } from "../../plugins/datastore-sql/src/entries.js";
import { entryRowOf } from "../../plugins/datastore-sql/src/entry-rows.js";
import { type DatasetSizes, dataset } from "./dataset.js";

export async function seed(config: SqlConfig, sizes: DatasetSizes): Promise<void> {
  const knex = openDatabase(config);
  try {
    const { entries, agents } = dataset(sizes);
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < agents.length; i += 2000) {
      const part = agents.slice(i, i + 2000);
      await knex.transaction(async (trx) => {
        const nodes = part.map((a, j) => ({
          spiffe_id: a.spiffeId,
          data_type: "x509pop",
          serial_number: String(1000 + i + j),
          expires_at: 4_000_000_000,
          new_serial_number: "",
          new_expires_at: 0,
          can_reattest: true,
          agent_version: "bench",
        }));
        for (let k = 0; k < nodes.length; k += 100) await trx("attested_nodes").insert(nodes.slice(k, k + 100));
        const selectors = part.flatMap((a) => a.selectors.map((s, seq) => ({ spiffe_id: a.spiffeId, seq, type: s.type, value: s.value })));
        for (let k = 0; k < selectors.length; k += 200) await trx("node_selectors").insert(selectors.slice(k, k + 200));
      });
    }
    for (let i = 0; i < entries.length; i += 5000) {
      const part = entries.slice(i, i + 5000).map((e) => {
        const valid = validateEntry({ ...e, id: randomUUID(), createdAt: BigInt(now) });
        return { row: entryRowOf(valid.entry, valid), valid };
      });
      await knex.transaction(async (trx) => {
        for (let k = 0; k < part.length; k += 50) await trx("registered_entries").insert(part.slice(k, k + 50).map((p) => p.row));
        const selectors = part.flatMap((p) =>
          p.valid.entry.selectors.map((s, seq) => ({ entry_id: p.valid.entry.id, seq, type: s.type, value: s.value })),
        );
        for (let k = 0; k < selectors.length; k += 200) await trx("entry_selectors").insert(selectors.slice(k, k + 200));
      });
    }
  } finally {
    await knex.destroy();
  }
}
