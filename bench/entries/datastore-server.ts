/**
 * The SQL DataStore plugin's service in a process of its own, so the bench
 * measures the server side (entry cache) without the database driver's
 * memory and CPU in the same process, as in production.
 *
 *   node datastore-server.mjs <config JSON> <socket path> [<dataset sizes JSON>]
 *
 * With dataset sizes, first writes the bench dataset into the database
 * (seed.ts). Prints "ready <seed ms>" once serving; exits when stdin closes.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { implement, unlimitedMessageSize } from "@signet/proto";
import { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { createLogger } from "@signet/plugin-sdk";
import { createSqlDataStore, parseConfig } from "../../plugins/datastore-sql/src/datastore.js";
import { seed } from "./seed.js";


async function main(): Promise<void> {
  const [configJson, socket, sizesJson] = process.argv.slice(2);
  if (!configJson || !socket) throw new Error("usage: datastore-server <config JSON> <socket> [<sizes JSON>]");
  const config = await parseConfig(configJson);
  const store = await createSqlDataStore(config, createLogger({ level: "error" }));
  const seedStarted = performance.now();
  if (sizesJson) await seed(config, JSON.parse(sizesJson));
  const seedMs = Math.round(performance.now() - seedStarted);
  const server = new Server({ ...unlimitedMessageSize });
  const reg = implement(DataStoreService, store.service);
  server.addService(reg.definition as never, reg.implementation);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  process.stdout.write(`ready ${seedMs}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    server.forceShutdown();
    void store.close().then(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
