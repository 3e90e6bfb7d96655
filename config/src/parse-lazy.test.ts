import { createRequire } from "node:module";
import { expect, it } from "vitest";
import { decodePluginConfig } from "./plugin-data.js";
import { parseConfigText } from "./parse.js";
import { object, str } from "./schema.js";

// Its own file, so its own process: nothing else has loaded the HCL parser here.
const require = createRequire(import.meta.url);
const hclLoaded = () => Object.keys(require.cache).some((file) => file.includes("js-hcl-parser"));

it("parses JSON without loading the HCL parser, and loads it for the first HCL text", async () => {
  expect(hclLoaded()).toBe(false);
  await parseConfigText('{"server": {"trust_domain": "example.org"}}');
  await decodePluginConfig(object({ a: str() }), '{"a": "x"}');
  await decodePluginConfig(object({ a: str().optional() }), "");
  expect(hclLoaded()).toBe(false);

  await parseConfigText('server { trust_domain = "example.org" }');
  expect(hclLoaded()).toBe(true);
});
