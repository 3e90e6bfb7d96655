/**
 * The KeyManager suite against real plugin programs: the memory KeyManager
 * passes (and fails the persistence it does not have when made to claim
 * it), and the memory KeyManager with one injected defect fails exactly the
 * checks about that defect.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { keyManagerSuite } from "./keymanager.js";
import type { PluginUnderTest } from "./plugin.js";
import type { KeyTypeName } from "./signatures.js";
import { type Suite, type SuiteResult, runSuite } from "./suite.js";

let memory = "";
let broken = "";

beforeAll(async () => {
  [memory, broken] = await Promise.all([
    buildPlugin(join(__dirname, "../../../plugins/keymanager-memory/src/index.ts"), "conformance-keymanager-memory", "KeyManager"),
    buildPlugin(join(__dirname, "../../../test/fakes/plugins/broken-keymanager.ts"), "conformance-km-broken-keymanager", "KeyManager"),
  ]);
});

/** RSA 4096 takes seconds to generate; the other types exercise the same paths. */
const keyTypes: KeyTypeName[] = ["EC_P256", "RSA_2048"];

const failed = (r: SuiteResult) => r.results.filter((c) => !c.ok).map((c) => c.name);
const names = (suite: Suite, pick: (name: string) => boolean) => suite.checks.map((c) => c.name).filter(pick);
const errorOf = (r: SuiteResult, name: string) => r.results.find((c) => c.name === name)?.error?.message ?? "";

const km = (file: string, args: string[] = []): PluginUnderTest => ({ type: "KeyManager", file, args, sides: ["server", "agent"] });

const signing = (n: string) => /^sign-data: (EC|RSA)_\S+ \S+ .*verifies/.test(n);
const ecSigning = (n: string) => signing(n) && n.includes("ECDSA");
const overwrite = (n: string) => n.startsWith("generate-key: generating an existing id again");
const bystanders = (n: string) =>
  n.startsWith("generate-key: EC_P256") || n.startsWith("generate-key: RSA_2048") || n === "get-public-key: an empty key id is refused with InvalidArgument";

describe("keyManagerSuite", () => {
  it("passes the memory KeyManager on both sides", async () => {
    for (const side of ["server", "agent"] as const) {
      const r = await runSuite(keyManagerSuite(km(memory), { side, keyTypes }));
      expect(failed(r), side).toEqual([]);
      expect(r.results.length).toBeGreaterThanOrEqual(20);
    }
  });

  it("fails the persistence check for a plugin that claims persistence it does not have", async () => {
    const r = await runSuite(keyManagerSuite(km(memory), { side: "server", keyTypes: ["EC_P256"], persistent: true }));
    expect(failed(r)).toEqual(["persistence: keys survive a restart of the plugin process"]);
    expect(errorOf(r, "persistence: keys survive a restart of the plugin process")).toMatch(/does not list "conformance-kept-ec_p256"/);
  });

  it("honours opt-outs: fewer key types and unsupported algorithms mean fewer checks", () => {
    const all = keyManagerSuite(km(memory), { side: "server" });
    const some = keyManagerSuite(km(memory), { side: "server", keyTypes: ["RSA_2048"], unsupportedSignatureAlgorithms: { RSA_2048: ["SHA256-RSAPSS"] } });
    expect(names(all, signing)).toHaveLength(2 * 3 + 2 * 6);
    expect(names(some, signing)).toEqual([
      "sign-data: RSA_2048 SHA256-RSA verifies against the public key",
      "sign-data: RSA_2048 SHA384-RSA verifies against the public key",
      "sign-data: RSA_2048 SHA512-RSA verifies against the public key",
      "sign-data: RSA_2048 SHA384-RSAPSS (salt lengths -1, 0, 20) verifies against the public key",
      "sign-data: RSA_2048 SHA512-RSAPSS (salt lengths -1, 0, 20) verifies against the public key",
    ]);
  });

  it.each([
    ["wrong-fingerprint", (n: string) => signing(n) || overwrite(n) || n === "sign-data: key_fingerprint is the signing key's fingerprint", /answered key_fingerprint ".*0000"/],
    ["p1363-signatures", ecSigning, /IEEE P1363 \(r\|\|s\); hosts expect ASN\.1 DER/],
    ["hashes-again", (n: string) => signing(n) || overwrite(n), /hashed the data again/],
    ["keeps-old-key", overwrite, /answered key type 1; expected 3 \(RSA_2048\)/],
    [
      "lax-validation",
      (n: string) => n === "generate-key: an empty key id is refused with InvalidArgument" || n === "generate-key: an unspecified key type is refused with InvalidArgument",
      /expected InvalidArgument, but the call succeeded/,
    ],
    ["not-found-as-internal", (n: string) => n.startsWith("get-public-key: an unknown id") || n === "sign-data: an unknown key id answers NotFound", /Internal/],
    ["forgets-listing", (n: string) => n.startsWith("get-public-keys:"), /answered 1 keys .* after 2 were generated/],
  ])("a KeyManager with defect %s fails exactly the checks about it", async (mode, expected, message) => {
    const suite = keyManagerSuite(km(broken, [mode]), { side: "agent", keyTypes });
    const want = names(suite, expected);
    expect(want.length).toBeGreaterThan(0);
    // The checks about the defect, and a few others that must still pass beside them.
    const r = await runSuite(suite, { only: (n) => expected(n) || bystanders(n) });
    expect(r.results.length).toBeGreaterThan(want.length);
    expect(failed(r)).toEqual(want);
    expect(errorOf(r, want[0]!)).toMatch(message);
  });
});
