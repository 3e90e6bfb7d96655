/**
 * The DataStore conformance suite against this plugin's service on each
 * database: SQLite (temporary files), PostgreSQL and MariaDB/MySQL (a fresh
 * database per check group, dropped afterwards). The service runs in process
 * behind a real gRPC server (test/fakes/datastore.ts); plugin.test.ts runs
 * the bundled program out of process. An unreachable PostgreSQL or MySQL
 * server fails its suite with the reason.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { dataStoreSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { inProcessDataStore as inProcess, unavailableReason } from "../../../test/fakes/datastore.js";

const vitest = { describe, it, beforeAll, afterAll };

registerWithVitest(dataStoreSuite(inProcess("sqlite3")), vitest);

for (const type of ["postgres", "mysql"] as const) {
  const reason = await unavailableReason(type);
  if (reason) {
    // PostgreSQL and MariaDB run on every machine this project targets (.ci/run starts them):
    // an unreachable server is a failure with its reason, never a silent skip.
    describe(`DataStore conformance (${type})`, () => {
      it("needs its database server", () => {
        throw new Error(reason);
      });
    });
  } else {
    registerWithVitest(dataStoreSuite(inProcess(type)), vitest);
  }
}
