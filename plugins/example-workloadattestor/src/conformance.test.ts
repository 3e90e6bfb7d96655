/**
 * The plugin program, bundled as it ships, against the conformance kit:
 * the launch contract for every plugin, then the WorkloadAttestor checks.
 * Keep this file when you copy the folder; fill in your own configurations.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PluginUnderTest, lifecycleSuite, registerWithVitest, workloadAttestorSuite } from "@signet/plugin-sdk/conformance";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "example-workloadattestor");
const vitest = { describe, it, beforeAll, afterAll };
const uid = process.geteuid?.() ?? 0;
const gid = process.getegid?.() ?? 0;

const plugin: PluginUnderTest = {
  type: "WorkloadAttestor",
  file,
  config: JSON.stringify({ selector_prefix: "team-a", allowed_uids: [uid] }),
  badConfigs: [
    { name: "an unknown key", text: JSON.stringify({ selector_prefx: "team-a" }), message: "selector_prefx" },
    { name: "a prefix with a colon", text: JSON.stringify({ selector_prefix: "team:a" }), message: /selector_prefix: .* may hold only/ },
    { name: "a negative UID", text: JSON.stringify({ allowed_uids: [-1] }), message: "allowed_uids" },
    { name: "HCL with a string for a list", text: 'allowed_uids = "1000"', message: "allowed_uids" },
  ],
};

registerWithVitest(lifecycleSuite(plugin), vitest);
registerWithVitest(
  workloadAttestorSuite(plugin, {
    expectOwnSelectors: (values) => {
      expect(values).toEqual([`team-a:uid:${uid}`, `team-a:gid:${gid}`]);
    },
  }),
  vitest,
);
