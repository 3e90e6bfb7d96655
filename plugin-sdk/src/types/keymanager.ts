import { type AsyncService, type ServiceRegistration, implement } from "@signet/proto";
import { KeyManagerService as AgentKeyManager } from "@signet/proto/spire/plugin/agent/keymanager/v1/keymanager";
import { KeyManagerService as ServerKeyManager } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";

export type ServerKeyManagerImpl = Partial<AsyncService<typeof ServerKeyManager>>;
export type AgentKeyManagerImpl = Partial<AsyncService<typeof AgentKeyManager>>;

/** KeyManager: generate, fetch and sign with keys that never leave the plugin. */
export const keyManager = {
  server: (impl: ServerKeyManagerImpl): ServiceRegistration => implement(ServerKeyManager, impl),
  agent: (impl: AgentKeyManagerImpl): ServiceRegistration => implement(AgentKeyManager, impl),
};
