/**
 * The memory KeyManager has nothing to configure. An empty configuration (or
 * an empty block, `plugin_data {}`) is accepted; anything else is refused, so
 * an operator who expected settings to matter (say, a `keys_path` meant for
 * the disk KeyManager) learns at load time that they do not.
 */
import { decodePluginConfig, object } from "@signet/plugin-sdk";

export const noConfigurationMessage = "keymanager memory takes no configuration";

export async function parseConfig(hclConfiguration: string): Promise<void> {
  try {
    await decodePluginConfig(object({}), hclConfiguration);
  } catch (e) {
    throw new Error(`${noConfigurationMessage}: ${(e as Error).message}`);
  }
}
