/**
 * The DataStore conformance suite against this plugin's service on each
 * database: SQLite (temporary files), PostgreSQL and MariaDB/MySQL (a fresh
 * database per check group, dropped afterwards). The service runs in process
 * behind a real gRPC server (test/fakes/datastore.ts); plugin.test.ts runs
 * the bundled program out of process. An unreachable PostgreSQL or MySQL
 * server skips its suite locally and fails it under CI=true.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { dataStoreSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { inProcessDataStore as inProcess, unavailableReason } from "../../../test/fakes/datastore.js";

const vitest = { describe, it, beforeAll, afterAll };

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
