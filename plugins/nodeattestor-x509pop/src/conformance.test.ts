/**
 * The bundled plugin program against the conformance kit, each half in its own process over the
 * real protocol: the launch contract with good and bad configurations, then the NodeAttestor
 * suite with a real agent certificate chain (root CA → intermediate → leaf).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, beforeAll } from "vitest";
import { type PluginUnderTest, lifecycleSuite, nodeAttestorSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { parseCertificate } from "./certificate.js";
import { encodeAttestationData } from "./codec.js";
import { intermediateCa, leafCert, rootCa, writeAgentFiles, writeBundle } from "./testing/pki.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "nodeattestor-x509pop", "NodeAttestor");
const vitest = { describe, it, beforeAll, afterAll };

const dir = mkdtempSync(join(tmpdir(), "x509pop-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = rootCa();
const intermediate = intermediateCa(root);
const leaf = leafCert(intermediate, { uris: ["x509pop://example.org/datacenter/eu-west-1"] });
const bundle = writeBundle(dir, "bundle", [root]);
const agentFiles = writeAgentFiles(dir, "agent", { leaf, chain: [intermediate] });
const sha1 = (der: Buffer) => createHash("sha1").update(der).digest("hex");
const serialHex = (() => {
  const h = parseCertificate(leaf.der).serialNumber.toString(16);
  return h.length % 2 ? `0${h}` : h;
})();

const base = { type: "NodeAttestor", file, sides: ["server", "agent"] } as const;
const server: PluginUnderTest = {
  ...base,
  config: JSON.stringify({ ca_bundle_path: bundle }),
  badConfigs: [
    { name: "no configuration", text: "", message: /one of ca_bundle_path or ca_bundle_paths must be configured/ },
    { name: "both CA settings", text: `ca_bundle_path = "${bundle}"\nca_bundle_paths = ["${bundle}"]`, message: "only one of ca_bundle_path or ca_bundle_paths can be configured, not both" },
    { name: "an unknown mode", text: `mode = "private_ca"\nca_bundle_path = "${bundle}"`, message: "mode can only be either spiffe or external_pki" },
    { name: "a missing CA bundle", text: JSON.stringify({ ca_bundle_path: join(dir, "none.pem") }), message: `unable to load trust bundle "${join(dir, "none.pem")}": open ${join(dir, "none.pem")}: no such file or directory` },
    { name: "CA bundles in spiffe mode", text: `mode = "spiffe"\nca_bundle_path = "${bundle}"`, message: "you can not use ca_bundle_path or ca_bundle_paths in spiffe mode" },
    { name: "a broken agent path template", text: JSON.stringify({ ca_bundle_path: bundle, agent_path_template: "/{{ .Fingerprint " }), message: /^failed to parse agent svid template: / },
    { name: "max_intermediates of 0", text: JSON.stringify({ ca_bundle_path: bundle, max_intermediates: 0 }), message: "max_intermediates must be greater than 0" },
    { name: "the documented but unread svid_prefix", text: `mode = "spiffe"\nsvid_prefix = "/x"`, message: /spiffe_prefix/ },
    { name: "an agent key without its certificate", text: JSON.stringify({ private_key_path: agentFiles.privateKeyPath }), message: "certificate_path is required" },
    { name: "an agent certificate that does not exist", text: JSON.stringify({ private_key_path: agentFiles.privateKeyPath, certificate_path: join(dir, "none.pem") }), message: /^unable to load keypair: open .*none\.pem: no such file or directory$/ },
    { name: "server and agent settings at once", text: JSON.stringify({ ca_bundle_path: bundle, private_key_path: agentFiles.privateKeyPath }), message: /both present/ },
  ],
};
const agent: PluginUnderTest = {
  ...base,
  config: `private_key_path = "${agentFiles.privateKeyPath}"\ncertificate_path = "${agentFiles.certificatePath}"`,
};

registerWithVitest(lifecycleSuite(server), vitest);
registerWithVitest(
  nodeAttestorSuite(server, agent, {
    name: "x509pop",
    badPayloads: [
      { name: "a chain of only the intermediate", payload: encodeAttestationData({ certificates: [intermediate.der] }) },
      { name: "a leaf without its intermediate", payload: encodeAttestationData({ certificates: [leaf.der] }) },
      { name: "a chain to another root", payload: encodeAttestationData({ certificates: (() => { const r = rootCa(); const i = intermediateCa(r); return [leafCert(i).der, i.der]; })() }) },
    ],
    expectAttributes: (a) => {
      expect(a.spiffeId).toBe(`spiffe://example.org/spire/agent/x509pop/${sha1(leaf.der)}`);
      expect(a.selectorValues).toEqual([
        "subject:cn:node-1.example.org",
        `ca:fingerprint:${sha1(intermediate.der)}`,
        `ca:fingerprint:${sha1(root.der)}`,
        `serialnumber:${serialHex}`,
        "san:datacenter:eu-west-1",
      ]);
      expect(a.canReattest).toBe(true);
    },
  }),
  vitest,
);
