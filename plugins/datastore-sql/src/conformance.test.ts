/**
 * The DataStore conformance suite against this plugin's service on each
 * database: SQLite (temporary files), PostgreSQL and MariaDB/MySQL (a fresh
 * database per check group, dropped afterwards). The service runs in process
 * behind a real gRPC server (test/fakes/datastore.ts); plugin.test.ts runs
 * the bundled program out of process. An unreachable PostgreSQL or MySQL
 * server skips its suite locally and fails it under CI=true.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { type DataStoreUnderTest, dataStoreSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { createTestDatabase, startTestDataStore, unavailableReason } from "../../../test/fakes/datastore.js";

const vitest = { describe, it, beforeAll, afterAll };

export function inProcess(databaseType: "sqlite3" | "postgres" | "mysql"): DataStoreUnderTest {
  return {
    name: databaseType,
    async newDatabase() {
      const db = await createTestDatabase(databaseType);
      return {
        async open() {
          const ds = await startTestDataStore({ databaseType, connectionString: db.connectionString });
          return { client: ds.dataStore, close: () => ds.close() };
        },
        drop: () => db.drop(),
      };
    },
  };
}

registerWithVitest(dataStoreSuite(inProcess("sqlite3")), vitest);

for (const type of ["postgres", "mysql"] as const) {
  const reason = await unavailableReason(type);
  if (reason && process.env.CI === "true") {
    describe(`DataStore conformance (${type})`, () => {
      it("needs its database server under CI", () => {
        throw new Error(reason);
      });
    });
  } else if (reason) {
    describe.skip(`DataStore conformance (${type}): ${reason}`, () => {
      it("skipped", () => {});
    });
  } else {
    registerWithVitest(dataStoreSuite(inProcess(type)), vitest);
  }
}
