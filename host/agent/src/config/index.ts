export { loadAgentConfig, agentConfigFromFile } from "./load.js";
export { agentFile } from "./schema.js";
export type { AgentConfig, AgentFlagOverrides, LoadOptions, TrustBundleSource, WorkloadKeyType } from "./agent-config.js";
