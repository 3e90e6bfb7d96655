/**
 * The batch-sign checks of the KeyManager suite against real plugin
 * programs: the memory KeyManager's extension passes; a plugin without the
 * extension, and one with each injected defect, fail exactly the checks
 * about it while the others still pass.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { keyManagerSuite } from "./keymanager.js";
import type { PluginUnderTest } from "./plugin.js";
import type { KeyTypeName } from "./signatures.js";
import { type SuiteResult, runSuite } from "./suite.js";

let fake = "";

beforeAll(async () => {
  fake = await buildPlugin(join(__dirname, "../../../test/fakes/plugins/batch-keymanager.ts"), "conformance-batch-keymanager", "KeyManager");
});

const keyTypes: KeyTypeName[] = ["EC_P256", "RSA_2048"];
const km = (mode: string): PluginUnderTest => ({ type: "KeyManager", file: fake, args: [mode], sides: ["server", "agent"] });
const batch = (n: string) => n.startsWith("batch-sign:");
const failed = (r: SuiteResult) => r.results.filter((c) => !c.ok).map((c) => c.name);
const errorOf = (r: SuiteResult, name: string) => r.results.find((c) => c.name === name)?.error?.message ?? "";

const signing = (n: string) => /^batch-sign: (EC|RSA)_\S+ \S+ .*in order$/.test(n);
const limits = (n: string) => / (more than|over) .* refused with InvalidArgument$/.test(n);

describe("keyManagerSuite batch-sign checks", () => {
  it("pass the SDK's BatchSigner, on both sides, and are there only when asked for", async () => {
    for (const side of ["server", "agent"] as const) {
      const suite = keyManagerSuite(km("served"), { side, keyTypes, batchSigner: true });
      const r = await runSuite(suite, { only: batch });
      expect(failed(r), side).toEqual([]);
      expect(r.results.length).toBe(1 + 3 + 6 + 9 + 1);
    }
    expect(keyManagerSuite(km("served"), { side: "server", keyTypes }).checks.filter((c) => batch(c.name))).toEqual([]);
  });

  it.each([
    ["no-batch-signer", (_: string) => true, /without signet\.plugin\.keymanager\.v1\.BatchSigner|UNIMPLEMENTED|Unimplemented/],
    // The 1024-message check verifies the last signature, which reversal moves.
    ["reversed-order", (n: string) => signing(n) || n.includes("exactly 1024"), /signature 0 is the signature of message 5; signatures must come in request order/],
    ["no-limits", limits, /expected InvalidArgument, but the call succeeded/],
    ["wrong-fingerprint", (n: string) => signing(n) || n.includes("empty batch"), /key_fingerprint ".*0000"/],
  ])("a plugin with %s fails exactly the checks about it", async (mode, expected, message) => {
    const suite = keyManagerSuite(km(mode), { side: "server", keyTypes, batchSigner: true });
    const r = await runSuite(suite, { only: batch });
    const want = r.results.map((c) => c.name).filter(expected);
    expect(want.length).toBeGreaterThan(0);
    expect(failed(r)).toEqual(want);
    expect(want.map((n) => errorOf(r, n)).join("\n")).toMatch(message);
  });
});
