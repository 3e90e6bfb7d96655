/**
 * The bundled plugin program against the conformance kit: the launch
 * contract with good and bad configurations, then SPIRE's KeyManager suite
 * on both the server's (`keys_path`) and the agent's (`directory`) service,
 * each over the real protocol in a real process, including a restart that
 * must keep every key.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type PluginUnderTest, keyManagerSuite, lifecycleSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "keymanager-disk", "KeyManager");
const vitest = { describe, it, beforeAll, afterAll };

const root = mkdtempSync(join(tmpdir(), "keymanager-disk-conformance-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
/** A fresh, empty place for every process that needs a clean state (the agent's is created by the plugin). */
const fresh = () => join(root, `${++made}`);
const freshKeysPath = () => {
  const dir = fresh();
  mkdirSync(dir);
  return join(dir, "keys.json");
};

const corrupt = join(root, "corrupt.json");
writeFileSync(corrupt, '{"keys": {"a": "not base64!"}}');

const base = { type: "KeyManager", file, sides: ["server", "agent"] } as const;

const lifecycle: PluginUnderTest = {
  ...base,
  config: () => JSON.stringify({ keys_path: freshKeysPath() }),
  badConfigs: [
    { name: "no configuration", text: "", message: /^keymanager disk: keys_path \(server\) or directory \(agent\) is required/ },
    { name: "both keys_path and directory", text: 'keys_path = "/tmp/k.json"\ndirectory = "/tmp/k"', message: /keys_path and directory are both set/ },
    { name: "an unknown key", text: JSON.stringify({ keys_path: "/tmp/k.json", key_path: "/tmp/k.json" }), message: /^keymanager disk: .*key_path/ },
    { name: "an empty keys_path", text: 'keys_path = ""', message: /keys_path is empty/ },
    { name: "a corrupt keys file", text: JSON.stringify({ keys_path: corrupt }), message: `keys file ${JSON.stringify(corrupt)} is corrupt: key "a": not standard base64` },
    { name: "broken HCL", text: "keys_path = ", message: /^keymanager disk: / },
  ],
};

const server: PluginUnderTest = { ...base, config: () => JSON.stringify({ keys_path: freshKeysPath() }) };
const agent: PluginUnderTest = { ...base, config: () => `directory = ${JSON.stringify(fresh())}` };

registerWithVitest(lifecycleSuite(lifecycle), vitest);
registerWithVitest(keyManagerSuite(server, { side: "server", persistent: true, batchSigner: true }), vitest);
registerWithVitest(keyManagerSuite(agent, { side: "agent", persistent: true, batchSigner: true }), vitest);
