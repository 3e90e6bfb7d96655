/**
 * The DataStore suite must be able to fail: this plugin's service with
 * defects injected at the wire (a client that rewrites answers) fails the
 * checks that cover them, while an untouched check still passes.
 */
import { describe, expect, it } from "vitest";
import { type DataStoreClient, type DataStoreUnderTest, dataStoreSuite, runSuite } from "@signet/plugin-sdk/conformance";
import { inProcessDataStore as inProcess } from "../../../test/fakes/datastore.js";

type Defect = (client: DataStoreClient) => DataStoreClient;

const defects: Record<string, Defect> = {
  /** UpdateEntries forgets to bump revision_number. */
  "no-revision-bump": (c) => ({
    ...c,
    updateEntries: async (req, opts) => {
      const res = await c.updateEntries(req, opts);
      return { results: res.results.map((r) => (r.entry ? { ...r, entry: { ...r.entry, revisionNumber: r.entry.revisionNumber - 1n } } : r)) };
    },
  }),
  /** DeleteJoinToken lets every racer win (no atomic claim). */
  "token-claimed-twice": (c) => ({
    ...c,
    deleteJoinToken: async (req, opts) => {
      try {
        return await c.deleteJoinToken(req, opts);
      } catch {
        return { token: { value: req.value, expiresAt: 1n } };
      }
    },
  }),
  /** StreamEvents delivers events out of order (swaps neighbours). */
  "events-out-of-order": (c) => ({
    ...c,
    streamEvents: (req, opts) =>
      (async function* () {
        let held;
        for await (const e of c.streamEvents(req, opts)) {
          if (!held) {
            held = e;
            continue;
          }
          yield e;
          yield held;
          held = undefined;
        }
      })(),
  }),
};

function broken(defect: Defect): DataStoreUnderTest {
  const base = inProcess("sqlite3");
  return {
    name: "broken",
    async newDatabase() {
      const db = await base.newDatabase();
      return {
        async open() {
          const i = await db.open();
          return { client: defect(i.client), close: () => i.close() };
        },
        drop: () => db.drop(),
      };
    },
  };
}

const cases: Array<[string, RegExp]> = [
  ["no-revision-bump", /^UpdateEntries: a mask writes only its fields/],
  ["token-claimed-twice", /^Join tokens:/],
  ["events-out-of-order", /^Every write appends its events in order/],
];

describe("DataStore conformance catches broken stores", () => {
  for (const [defect, check] of cases) {
    it(`${defect} fails "${check.source}" and nothing breaks the untouched CreateBundle check`, async () => {
      const suite = dataStoreSuite(broken(defects[defect]!));
      const result = await runSuite(suite, { only: (name) => check.test(name) || name.startsWith("CreateBundle stores") });
      const failed = result.results.filter((r) => !r.ok).map((r) => r.name);
      expect(result.results.length).toBe(2);
      expect(failed.length).toBe(1);
      expect(failed[0]).toMatch(check);
    }, 60_000);
  }
});
