/**
 * The UpstreamAuthority suite against real plugin programs: the disk
 * UpstreamAuthority passes, and the same plugin with one injected defect
 * fails exactly the checks about that defect.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CaFiles, writeCaFiles } from "../../../test/fakes/ca-files.js";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import type { PluginUnderTest } from "./plugin.js";
import { type SuiteResult, runSuite } from "./suite.js";
import { upstreamAuthoritySuite } from "./upstreamauthority.js";

let broken = "";
const root = mkdtempSync(join(tmpdir(), "ua-suite-"));
let selfSigned: CaFiles;
let intermediate: CaFiles;

beforeAll(async () => {
  broken = await buildPlugin(join(__dirname, "../../../test/fakes/plugins/broken-upstreamauthority.ts"), "conformance-broken-upstreamauthority", "UpstreamAuthority");
  mkdirSync(join(root, "a"));
  mkdirSync(join(root, "b"));
  selfSigned = writeCaFiles(join(root, "a"));
  intermediate = writeCaFiles(join(root, "b"), { intermediate: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const configOf = (c: CaFiles) => JSON.stringify({ cert_file_path: c.certFilePath, key_file_path: c.keyFilePath, ...(c.bundleFilePath ? { bundle_file_path: c.bundleFilePath } : {}) });
const ua = (mode: string, ca: () => CaFiles): PluginUnderTest => ({ type: "UpstreamAuthority", file: broken, args: [mode], config: () => configOf(ca()) });
const failed = (r: SuiteResult) => r.results.filter((c) => !c.ok).map((c) => c.name);
const errors = (r: SuiteResult) => r.results.filter((c) => !c.ok).map((c) => c.error?.message ?? "").join("\n");

describe("upstreamAuthoritySuite", () => {
  it("passes the disk UpstreamAuthority (self-signed and intermediate upstream)", async () => {
    for (const ca of [() => selfSigned, () => intermediate]) {
      const r = await runSuite(upstreamAuthoritySuite(ua("none", ca), { defaultTtlSeconds: 3600 }));
      expect(failed(r)).toEqual([]);
      expect(r.results.length).toBe(10);
    }
  });

  it.each([
    ["foreign-roots", () => selfSigned, ["mint: the chain verifies, certificate by certificate, up to one of upstream_x509_roots"], /is not signed by any of the 1 upstream_x509_roots/],
    [
      "reversed-chain",
      () => intermediate,
      [
        "mint: a CA CSR comes back as a CA certificate for the CSR's key and the trust domain's ID, first in the chain",
        "mint: the chain verifies, certificate by certificate, up to one of upstream_x509_roots",
        // Lifetimes are judged on x509_ca_chain[0], here the upstream's own intermediate.
        "ttl: a preferred TTL is honoured (or capped at the upstream CA's expiry)",
        "ttl: preferred TTL 0 gives the plugin's default of 3600 s",
      ],
      /not for the CSR's public key[\s\S]*x509_ca_chain\[0\] is issued by a root, but 1 more certificates follow it/,
    ],
    ["ignores-ttl", () => selfSigned, ["ttl: a preferred TTL is honoured (or capped at the upstream CA's expiry)"], /longer than the preferred TTL of 1800 s/],
    [
      "silent-refusal",
      () => selfSigned,
      [
        "mint: a CSR that is not DER is refused",
        "mint: an empty CSR is refused",
        "mint: a CSR whose signature does not verify is refused",
        "mint: a CSR for a workload's ID rather than the trust domain's is refused",
        "mint: a CSR for another trust domain is refused",
      ],
      /ended the stream without a response or a status/,
    ],
    ["publishes-nothing", () => selfSigned, ["publish-jwt-key: answers Unimplemented (the plugin does not publish)"], /must answer Unimplemented/],
  ])("a plugin with defect %s fails exactly the checks about it", async (mode, ca, want, message) => {
    const r = await runSuite(upstreamAuthoritySuite(ua(mode, ca), { defaultTtlSeconds: 3600 }));
    expect(failed(r).map((n) => n.replace(/^UpstreamAuthority \(trust domain example\.org\) > /, ""))).toEqual(want);
    expect(errors(r)).toMatch(message);
  });

  it("a default TTL other than the plugin's fails the TTL-0 check", async () => {
    const r = await runSuite(upstreamAuthoritySuite(ua("none", () => selfSigned), { defaultTtlSeconds: 600 }));
    expect(failed(r)).toEqual(["ttl: preferred TTL 0 gives the plugin's default of 600 s"]);
  });
});
