/**
 * @signet/agent: signet-agent, the SPIFFE agent (SPIRE's spire-agent):
 * node attestation, entry sync, SVID cache and rotation, and the Workload API.
 */
export { startAgent, runAgent, agentLogger, agentVersion, AgentError, type RunningAgent, type StartOptions } from "./agent.js";
export { loadAgentConfig, agentConfigFromFile, agentFile, type AgentConfig, type AgentFlagOverrides, type TrustBundleSource } from "./config/index.js";
export { runAgentCommand } from "./run.js";
export { validateAgentCommand } from "./cli/validate/command.js";
