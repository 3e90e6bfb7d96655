/**
 * The bundled plugin program against the conformance kit: the launch
 * contract with good and bad configurations, then the UpstreamAuthority
 * suite for a self-signed upstream root and for an intermediate upstream CA
 * with a bundle, each over the real protocol in a real process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type PluginUnderTest, lifecycleSuite, registerWithVitest, upstreamAuthoritySuite } from "@signet/plugin-sdk/conformance";
import { writeCaFiles } from "../../../test/fakes/ca-files.js";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "upstreamauthority-disk", "UpstreamAuthority");
const vitest = { describe, it, beforeAll, afterAll };

const root = mkdtempSync(join(tmpdir(), "upstreamauthority-disk-conformance-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = (name: string) => {
  const d = join(root, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  return d;
};

const selfSigned = writeCaFiles(dir("root"));
const intermediate = writeCaFiles(dir("intermediate"), { intermediate: true });
const other = writeCaFiles(dir("other"));
const garbage = join(root, "garbage.pem");
writeFileSync(garbage, "not PEM at all\n");

const config = (c: { certFilePath: string; keyFilePath: string; bundleFilePath?: string }) =>
  JSON.stringify({ cert_file_path: c.certFilePath, key_file_path: c.keyFilePath, ...(c.bundleFilePath ? { bundle_file_path: c.bundleFilePath } : {}) });

const base = { type: "UpstreamAuthority", file, sides: ["server"] } as const;

const lifecycle: PluginUnderTest = {
  ...base,
  config: config(selfSigned),
  badConfigs: [
    { name: "no configuration", text: "", message: "'cert_file_path' and 'key_file_path' must be set and not empty" },
    { name: "an unknown key", text: JSON.stringify({ cert_file_path: "/a", key_file_path: "/b", ttl: "1h" }), message: /^upstreamauthority disk: .*ttl/ },
    { name: "a missing key file", text: config({ ...selfSigned, keyFilePath: join(root, "nope.key") }), message: /unable to load upstream CA key: .*no such file/ },
    { name: "a key file that is not PEM", text: config({ ...selfSigned, keyFilePath: garbage }), message: "unable to load upstream CA key: no PEM blocks" },
    { name: "a key of another certificate", text: config({ ...selfSigned, keyFilePath: other.keyFilePath }), message: "certificate and private key do not match" },
    { name: "an intermediate without its bundle", text: config({ certFilePath: intermediate.certFilePath, keyFilePath: intermediate.keyFilePath, bundleFilePath: other.certFilePath }), message: "certificate cannot be validated with the provided bundle" },
    { name: "broken HCL", text: "cert_file_path = ", message: /^upstreamauthority disk: / },
  ],
};

registerWithVitest(lifecycleSuite(lifecycle), vitest);
registerWithVitest(upstreamAuthoritySuite({ ...base, config: config(selfSigned) }, { defaultTtlSeconds: 3600 }), vitest);
registerWithVitest(upstreamAuthoritySuite({ ...base, config: config(intermediate), trustDomain: "intermediate.test" }, { defaultTtlSeconds: 3600 }), vitest);
