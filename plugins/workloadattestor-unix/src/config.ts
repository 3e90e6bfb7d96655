/**
 * The unix attestor's settings, SPIRE's two keys:
 *
 *   WorkloadAttestor "unix" {
 *     plugin_data {
 *       discover_workload_path = true   # adds path:<exe> and sha256:<digest>
 *       workload_size_limit    = 0      # 0: hash any size; < 0: never hash; > 0: refuse bigger binaries
 *     }
 *   }
 *
 * The text is JSON from a Signet host or HCL from SPIRE; decodePluginConfig
 * reads both. SPIRE's hcl.Decode ignores unknown keys; we refuse them, naming
 * the key, so a typo fails at load time.
 */
import { bool, decodePluginConfig, int, object } from "@signet/plugin-sdk";

export interface Settings {
  /** Read /proc/<pid>/exe for path and sha256 selectors (needs the agent to see the workload's exe). */
  readonly discoverWorkloadPath: boolean;
  /** Bytes; 0 = no limit, negative = never compute sha256 (SPIRE's semantics). */
  readonly workloadSizeLimit: number;
}

const schema = object({
  discover_workload_path: bool().default(false),
  workload_size_limit: int().default(0),
});

/** Parse, don't apply: Validate calls this alone. */
export async function parseSettings(hclConfiguration: string): Promise<Settings> {
  const raw = await decodePluginConfig(schema, hclConfiguration);
  return {
    discoverWorkloadPath: raw.discover_workload_path,
    workloadSizeLimit: raw.workload_size_limit,
  };
}
