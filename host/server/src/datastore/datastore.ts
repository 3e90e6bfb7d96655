import type { AsyncClient } from "@signet/proto";
import type { DataStoreService } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";

/**
 * The server's view of its DataStore plugin: the typed client of Signet's
 * DataStore service (proto/defs/signet/plugin/server/datastore/v1). Errors
 * arrive as RpcError with the codes that file documents; callers map them.
 */
export type DataStore = AsyncClient<typeof DataStoreService>;
