import { join } from "node:path";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../../test/fakes/build-plugin.js";
import { createLogger } from "../log/logger.js";
import { Catalog, type PluginRequest } from "./index.js";

const lines: string[] = [];
const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
let pluginFile = "";
const open: Catalog[] = [];

beforeAll(async () => {
  pluginFile = await buildPlugin(join(__dirname, "../../../../test/fakes/plugins/test-workloadattestor.ts"), "test-workloadattestor");
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

function request(mode: string, extra: Partial<PluginRequest> = {}): PluginRequest {
  return {
    type: "WorkloadAttestor",
    name: "test",
    source: { kind: "cmd", path: pluginFile },
    args: [mode],
    data: { kind: "inline", text: JSON.stringify({ colour: "red" }) },
    ...extra,
  };
}

async function load(reqs: PluginRequest[]) {
  const c = await Catalog.load(reqs, { side: "agent", trustDomain: "example.org", log, liveness: false });
  open.push(c);
  return c;
}

describe("catalog smoke", () => {
  it("loads, configures and calls a plugin", async () => {
    const c = await load([request("good")]);
    const p = c.get("WorkloadAttestor", "test")!;
    const res = await p.client(WorkloadAttestorService).attest({ pid: 42 });
    expect(res.selectorValues.slice(0, 2)).toEqual(["pid:42", "config:red"]);
  });
});
