/**
 * The bundled plugin program against the conformance kit: the launch
 * contract, then SPIRE's KeyManager suite on both the server's and the
 * agent's service, each over the real protocol in a real process.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type PluginUnderTest, keyManagerSuite, lifecycleSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { noConfigurationMessage } from "./config.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "keymanager-memory", "KeyManager");
const vitest = { describe, it, beforeAll, afterAll };
const keyNamed = new RegExp(`^${noConfigurationMessage}: .*keys_path`);

const plugin: PluginUnderTest = {
  type: "KeyManager",
  file,
  sides: ["server", "agent"],
  config: "",
  badConfigs: [
    // The message must name the key, so the operator knows which line to remove.
    { name: "a JSON key", text: JSON.stringify({ keys_path: "/var/lib/spire/keys.json" }), message: keyNamed },
    { name: "an HCL key (as SPIRE sends it)", text: 'keys_path = "/var/lib/spire/keys.json"', message: keyNamed },
    { name: "broken JSON", text: "{ keys_path", message: noConfigurationMessage },
  ],
};

registerWithVitest(lifecycleSuite(plugin), vitest);
registerWithVitest(keyManagerSuite(plugin, { side: "server", batchSigner: true }), vitest);
registerWithVitest(keyManagerSuite(plugin, { side: "agent", batchSigner: true }), vitest);
