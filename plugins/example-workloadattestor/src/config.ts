/**
 * The plugin's settings, from the `plugin_data` block an operator writes:
 *
 *   WorkloadAttestor "example" {
 *     plugin_cmd  = "/opt/signet/plugins/example/dist/plugin.mjs"
 *     plugin_data {
 *       selector_prefix = "team-a"     # optional: values become "team-a:uid:1000"
 *       allowed_uids    = [1000, 1001] # optional: other users' workloads get no selectors
 *     }
 *   }
 *
 * The host sends the block as text: JSON from Signet, HCL from SPIRE.
 * decodePluginConfig reads both and names the key in every error, and
 * unknown keys are errors, so a typo fails at load time instead of being
 * silently ignored.
 */
import { decodePluginConfig, int, list, object, str } from "@signet/plugin-sdk";

export interface Settings {
  /** Put before every selector value ("" = none). */
  readonly selectorPrefix: string;
  /** Only these UIDs are attested; undefined = every UID. */
  readonly allowedUids: ReadonlySet<number> | undefined;
}

const schema = object({
  selector_prefix: str().default(""),
  allowed_uids: list(int({ min: 0 })).optional(),
});

/** Parse, don't apply: Validate calls this alone, so it must have no side effects. */
export async function parseSettings(hclConfiguration: string): Promise<Settings> {
  const raw = await decodePluginConfig(schema, hclConfiguration);
  // Checks the schema cannot express go after decoding, with the key named in the message.
  if (raw.selector_prefix !== "" && !/^[A-Za-z0-9_-]+$/.test(raw.selector_prefix)) {
    throw new Error(`selector_prefix: ${JSON.stringify(raw.selector_prefix)} may hold only letters, digits, "-" and "_"`);
  }
  return {
    selectorPrefix: raw.selector_prefix,
    allowedUids: raw.allowed_uids ? new Set(raw.allowed_uids) : undefined,
  };
}
