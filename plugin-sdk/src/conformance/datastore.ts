/**
 * The DataStore suite: Signet's DataStore contract
 * (proto/defs/signet/plugin/server/datastore/v1/datastore.proto) checked
 * over the wire against any store: a plugin process (dataStoreFromPlugin) or
 * an in-process server (a DataStoreUnderTest of your own). Most checks share
 * one database and use unique names; checks that need an empty database, or
 * two instances on one, get fresh ones.
 *
 *   registerWithVitest(dataStoreSuite(dataStoreFromPlugin(plugin, newSqliteConfig)), vitest);
 */
import { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { bundleChecks } from "./datastore-bundles.js";
import { type DataStoreCheck, entryChecks } from "./datastore-entries.js";
import { feedChecks } from "./datastore-feed.js";
import type { CheckContext, DataStoreClient, DataStoreDatabase, DataStoreInstance, DataStoreUnderTest } from "./datastore-fixtures.js";
import { nodeChecks } from "./datastore-nodes.js";
import { PluginHarness } from "./harness.js";
import { type PluginUnderTest, resolvePlugin } from "./plugin.js";
import type { Check, Suite } from "./suite.js";

export type { DataStoreClient, DataStoreDatabase, DataStoreInstance, DataStoreUnderTest, CheckContext } from "./datastore-fixtures.js";

export interface DataStoreSuiteOptions {
  /** Per-check timeout (default 30 s). */
  readonly timeoutMs?: number;
}

/** Every check of the suite, by group, for tools that want to run a subset. */
export const dataStoreChecks: Readonly<Record<string, readonly DataStoreCheck[]>> = {
  entries: entryChecks,
  nodes: nodeChecks,
  bundles: bundleChecks,
  feed: feedChecks,
};

export function dataStoreSuite(store: DataStoreUnderTest, options: DataStoreSuiteOptions = {}): Suite {
  const databases: DataStoreDatabase[] = [];
  const instances: DataStoreInstance[] = [];
  let shared: Promise<DataStoreClient> | undefined;
  let counter = 0;
  const runId = Math.random().toString(36).slice(2, 8);

  const track = async (db: DataStoreDatabase, n: number, into: DataStoreInstance[]) => {
    const opened: DataStoreClient[] = [];
    for (let i = 0; i < n; i++) {
      const instance = await db.open();
      into.push(instance);
      opened.push(instance.client);
    }
    return opened;
  };

  const makeCheck = ([name, run]: DataStoreCheck): Check => ({
    name,
    timeoutMs: options.timeoutMs ?? 30_000,
    run: async () => {
      const local: DataStoreInstance[] = [];
      const localDbs: DataStoreDatabase[] = [];
      const ctx: CheckContext = {
        shared: () => {
          shared ??= (async () => {
            const db = await store.newDatabase();
            databases.push(db);
            const [client] = await track(db, 1, instances);
            return client!;
          })();
          return shared;
        },
        fresh: async (n = 1) => {
          const db = await store.newDatabase();
          localDbs.push(db);
          return track(db, n, local);
        },
        unique: (prefix) => `${prefix}-${runId}-${++counter}`,
      };
      try {
        await run(ctx);
      } finally {
        await Promise.allSettled(local.map((i) => i.close()));
        await Promise.allSettled(localDbs.map((d) => d.drop()));
      }
    },
  });

  return {
    name: `DataStore conformance (${store.name})`,
    checks: Object.values(dataStoreChecks).flat().map(makeCheck),
    setup: async () => {},
    teardown: async () => {
      await Promise.allSettled(instances.splice(0).map((i) => i.close()));
      await Promise.allSettled(databases.splice(0).map((d) => d.drop()));
      shared = undefined;
    },
  };
}

/**
 * The store under test as a plugin program: every instance is a process
 * launched and configured the way a host does. `newDatabase` returns the
 * configuration text for a fresh, empty database and how to remove it.
 */
export function dataStoreFromPlugin(
  plugin: PluginUnderTest,
  newDatabase: () => Promise<{ readonly config: string; drop(): Promise<void> }>,
  name = "plugin",
): DataStoreUnderTest {
  const harness = new PluginHarness(resolvePlugin({ ...plugin, type: "DataStore", sides: ["server"] }));
  return {
    name,
    async newDatabase() {
      const db = await newDatabase();
      return {
        async open() {
          const session = await harness.launch({ config: db.config });
          return {
            client: session.client(DataStoreService),
            close: async () => {
              await session.stop();
            },
          };
        },
        drop: () => db.drop(),
      };
    },
  };
}
