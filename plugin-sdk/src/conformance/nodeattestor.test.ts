/**
 * The NodeAttestor suite against the catalog's fixture attestor: it passes the good fixture, and
 * each deliberately flawed fixture fails exactly the checks aimed at its flaw.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { nodeAttestorSuite } from "./nodeattestor.js";
import type { PluginUnderTest } from "./plugin.js";
import { type SuiteResult, runSuite } from "./suite.js";

let file = "";

beforeAll(async () => {
  file = await buildPlugin(join(__dirname, "../../../test/fakes/plugins/test-nodeattestor.ts"), "conformance-na-test-nodeattestor", "NodeAttestor");
});

const failed = (r: SuiteResult) => r.results.filter((c) => !c.ok).map((c) => c.name);
const errorOf = (r: SuiteResult, prefix: string) => r.results.find((c) => c.name.startsWith(prefix))?.error?.message ?? "";
const half = (mode: string, node = "node-1"): PluginUnderTest => ({
  type: "NodeAttestor",
  file,
  args: [mode],
  sides: ["server", "agent"],
  config: JSON.stringify({ secret: "s3cret", node }),
});
const suite = (mode: string, options: { agentMode?: string; challenges?: boolean } = {}) =>
  nodeAttestorSuite(half(mode), half(options.agentMode ?? "good"), { name: "test", challenges: options.challenges ?? true, concurrentAttestations: 4 });

const replay = "attest: a challenge response replayed from an earlier attestation is refused";
const altered = "attest: altered challenge responses";
const garbage = "attest: garbage payloads";

describe("nodeAttestorSuite", () => {
  it("passes the good fixture, and hands the attributes to the author's judgement", async () => {
    const seen: string[] = [];
    const r = await runSuite(
      nodeAttestorSuite(half("good"), half("good"), {
        name: "test",
        expectAttributes: (a) => {
          seen.push(a.spiffeId, ...a.selectorValues);
        },
      }),
    );
    expect(failed(r)).toEqual([]);
    expect(r.passed).toBe(11);
    expect(seen).toEqual(["spiffe://example.org/spire/agent/test/node-1", "node:node-1"]);
  });

  it("fails a server whose nonce never changes on the replay check only", async () => {
    const r = await runSuite(suite("fixed-nonce"));
    expect(failed(r)).toEqual([replay]);
    expect(errorOf(r, replay)).toMatch(/^a replayed challenge response was accepted: the server half named the agent "spiffe:\/\/example.org\/spire\/agent\/test\/node-1"$/);
  });

  it("fails a server that accepts any answer on the alteration check", async () => {
    const r = await runSuite(suite("lenient"));
    expect(failed(r)).toEqual([replay, expect.stringMatching(/^attest: altered challenge responses/)]);
    expect(errorOf(r, altered)).toMatch(/with a bit of its last byte flipped was accepted/);
  });

  it("fails a server that crashes on garbage, and says that it died", async () => {
    const r = await runSuite(suite("crash-on-garbage"), { only: (n) => n.startsWith(garbage) });
    expect(failed(r)).toHaveLength(1);
    expect(errorOf(r, garbage)).toMatch(/exited with code 4/);
  });

  it("fails halves that answer before Configure", async () => {
    const r = await runSuite(suite("unconfigured-ok", { agentMode: "unconfigured-ok" }), { only: (n) => n.startsWith("lifecycle:") });
    expect(failed(r)).toHaveLength(1);
    expect(r.results[0]?.error?.message).toMatch(/an unconfigured server half answered Attest/);
  });

  it("fails a server that never challenges when it is declared to, and passes it when it is not", async () => {
    const declared = await runSuite(suite("no-challenge"), { only: (n) => n.includes("names an agent") });
    expect(failed(declared)).toHaveLength(1);
    expect(declared.results[0]?.error?.message).toMatch(/completed without any challenge, but the plugin is declared to challenge agents/);
    const undeclared = await runSuite(suite("no-challenge", { challenges: false }), { only: (n) => !n.startsWith("lifecycle:") });
    expect(failed(undeclared)).toEqual([]);
  });

  it("fails when the agent half belongs to another node than the author expects", async () => {
    const r = await runSuite(
      nodeAttestorSuite(half("good"), half("good", "node-2"), {
        name: "test",
        expectAttributes: (a) => {
          if (a.spiffeId !== "spiffe://example.org/spire/agent/test/node-1") throw new Error(`unexpected agent ${a.spiffeId}`);
        },
      }),
      { only: (n) => n.includes("names an agent") },
    );
    expect(failed(r)).toHaveLength(1);
    expect(r.results[0]?.error?.message).toBe("unexpected agent spiffe://example.org/spire/agent/test/node-2");
  });
});
