import { type AsyncService, type ServiceRegistration, implement } from "@signet/proto";
import { SVIDStoreService } from "@signet/proto/spire/plugin/agent/svidstore/v1/svidstore";

export type SVIDStoreImpl = Partial<AsyncService<typeof SVIDStoreService>>;

/** SVIDStore (agent): stores SVIDs of entries that select it somewhere outside the agent. */
export const svidStore = (impl: SVIDStoreImpl): ServiceRegistration => implement(SVIDStoreService, impl);
