/**
 * The bundled plugin program out of process, as a host runs it: the launch
 * contract (handshake, Init, good and bad configurations, shutdown) and the
 * DataStore suite over the real plugin protocol with SQLite files. Native
 * drivers stay outside the bundle and load from node_modules.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type PluginUnderTest, dataStoreFromPlugin, dataStoreSuite, lifecycleSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
// @ts-expect-error: plain ESM build script, no type declarations
import { bundlePlugin } from "../../../scripts/bundle-plugins.mjs";

const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { signet: { external: string[] } };
const file = (await bundlePlugin(join(__dirname, "index.ts"), join(__dirname, "..", "..", "..", ".tmp", "plugins", "datastore-sql"), {
  type: "DataStore",
  sourceConditions: true,
  external: pkg.signet.external,
})) as string;
const vitest = { describe, it, beforeAll, afterAll };

const root = mkdtempSync(join(tmpdir(), "datastore-sql-plugin-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
const sqliteConfig = () =>
  JSON.stringify({ database_type: "sqlite3", connection_string: join(root, `${++made}`, "datastore.sqlite3"), events_poll_interval: "50ms", events_gap_timeout: "1s" });

const plugin: PluginUnderTest = {
  type: "DataStore",
  file,
  sides: ["server"],
  config: sqliteConfig,
  badConfigs: [
    { name: "no configuration", text: "", message: /^datastore-sql: .*database_type/ },
    { name: "an unknown database type", text: JSON.stringify({ database_type: "oracle", connection_string: "x" }), message: /database_type/ },
    { name: "an empty connection string", text: JSON.stringify({ database_type: "sqlite3", connection_string: "" }), message: /connection_string is empty/ },
    { name: "an unknown key", text: JSON.stringify({ database_type: "sqlite3", connection_string: "/tmp/x", conection_string: "y" }), message: /conection_string/ },
    { name: "a bad duration", text: JSON.stringify({ database_type: "sqlite3", connection_string: "/tmp/x", conn_max_lifetime: "soon" }), message: /conn_max_lifetime/ },
  ],
};

registerWithVitest(lifecycleSuite(plugin), vitest);
registerWithVitest(
  dataStoreSuite(
    dataStoreFromPlugin(plugin, async () => ({ config: sqliteConfig(), drop: async () => {} }), "plugin process, sqlite3"),
  ),
  vitest,
);
