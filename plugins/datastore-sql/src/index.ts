/**
 * Entry point of the sql DataStore plugin program: one process per server,
 * holding the connection pool and the change-feed poller. Configure opens
 * (and migrates) the database; a reconfigure with a different database
 * swaps stores once the new one is ready, then closes the old one.
 */
import { implement } from "@signet/proto";
import { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { Code, RpcError, configService, createLogger, serve } from "@signet/plugin-sdk";
import { type SqlConfig, parseConfig } from "./config.js";
import { type SqlDataStore, createSqlDataStore } from "./datastore.js";
import { toRpcError } from "./errors.js";
import type { DataStoreImpl } from "./service.js";

const log = createLogger();
let current: SqlDataStore | undefined;

const notConfigured = () => new RpcError(Code.FAILED_PRECONDITION, "datastore-sql: not configured");

/** Every method forwards to the configured store, or fails until there is one. */
const service = new Proxy({} as DataStoreImpl, {
  get(_target, method: string) {
    return (req: unknown, ctx: unknown) => {
      if (!current) {
        if (method === "listEntries" || method === "listAttestedNodes" || method === "streamEvents") {
          return (async function* () {
            throw notConfigured();
          })();
        }
        return Promise.reject(notConfigured());
      }
      const fn = (current.service as unknown as Record<string, (r: unknown, c: unknown) => unknown>)[method]!;
      return fn(req, ctx);
    };
  },
});

const sameDatabase = (a: SqlConfig, b: SqlConfig) => JSON.stringify(a) === JSON.stringify(b);

async function apply(config: SqlConfig): Promise<void> {
  if (current && sameDatabase(current.config, config)) return;
  let next: SqlDataStore;
  try {
    next = await createSqlDataStore(config, log);
  } catch (e) {
    throw toRpcError(e);
  }
  const previous = current;
  current = next;
  await previous?.close().catch(() => {});
}

const methods = Object.fromEntries(Object.keys(DataStoreService).map((m) => [m, (service as unknown as Record<string, unknown>)[m]]));

serve({
  type: "DataStore",
  plugin: implement(DataStoreService, methods as unknown as DataStoreImpl),
  services: [configService({ parse: (text) => parseConfig(text), apply })],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});

process.on("exit", () => {
  void current?.close();
});
