import { join } from "node:path";
import { parseConfigText } from "@signet/config";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../../test/fakes/build-plugin.js";
import { createLogger } from "../log/logger.js";
import { catalogFromConfig } from "./index.js";

const log = createLogger({ write: () => {} });
let plugin = "";
beforeAll(async () => {
  plugin = await buildPlugin(join(__dirname, "../../../../test/fakes/plugins/test-workloadattestor.ts"), "test-workloadattestor");
});

describe("catalogFromConfig", () => {
  it("loads the plugins of an agent.conf-style plugins block, HCL data arriving as JSON", async () => {
    const text = `
plugins {
  KeyManager "memory" { enabled = false }
  NodeAttestor "join_token" {}
  WorkloadAttestor "first" {
    plugin_cmd = "${plugin}"
    plugin_args = ["good"]
    plugin_data { colour = "blue" }
  }
}`;
    const tree = await parseConfigText(text);
    // KeyManager is disabled here, so cardinality must refuse it ...
    await expect(catalogFromConfig(tree.plugins, { side: "agent", trustDomain: "example.org", log, source: { text } })).rejects.toThrow(
      /KeyManager.*expected exactly 1 but got 0/,
    );
  });

  it("skips the built-in join_token attestor and starts the rest", async () => {
    const text = `
plugins {
  KeyManager "k" {
    plugin_cmd = "${plugin}"
    plugin_args = ["wrong-type"]
  }
  NodeAttestor "join_token" {}
  WorkloadAttestor "first" {
    plugin_cmd = "${plugin}"
    plugin_args = ["good"]
    plugin_data { colour = "blue" }
  }
}`;
    const tree = await parseConfigText(text);
    // The KeyManager block points at a WorkloadAttestor program: its load fails with the
    // plugin's cookie check, which proves join_token was skipped rather than launched.
    await expect(catalogFromConfig(tree.plugins, { side: "agent", trustDomain: "example.org", log, source: { text }, liveness: false })).rejects.toThrow(
      /^failed to load plugin KeyManager "k": .*exited before the handshake \(exit code 1\)/,
    );
  });

  it("sends plugin_data as JSON text the plugin reads", async () => {
    const text = `
plugins {
  WorkloadAttestor "first" {
    plugin_cmd = "${plugin}"
    plugin_args = ["good"]
    plugin_data { colour = "blue" }
  }
}`;
    const tree = await parseConfigText(text);
    const { Catalog } = await import("./catalog.js");
    const { parsePluginDeclarations } = await import("../config/plugins.js");
    const decls = parsePluginDeclarations(tree.plugins, { side: "agent", source: { text } }).plugins;
    const c = await Catalog.load(decls, { side: "agent", trustDomain: "example.org", log, liveness: false });
    try {
      const res = await c.get("WorkloadAttestor", "first")!.client(WorkloadAttestorService).attest({ pid: 5 });
      expect(res.selectorValues[1]).toBe("config:blue");
    } finally {
      await c.close();
    }
  });
});
