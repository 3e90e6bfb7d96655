import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ServerConfig, parseConfig } from "./config.js";
import { pem, rootCa } from "./testing/pki.js";

const dir = mkdtempSync(join(tmpdir(), "x509pop-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca1 = join(dir, "ca1.pem");
const ca2 = join(dir, "ca2.pem");
writeFileSync(ca1, `junk before\n${pem("CERTIFICATE", rootCa().der)}${pem("PRIVATE KEY", Buffer.from("skipped"))}`);
writeFileSync(ca2, pem("CERTIFICATE", rootCa().der) + pem("CERTIFICATE", rootCa().der));
const notPem = join(dir, "not.pem");
writeFileSync(notPem, "hello");

const server = async (text: string) => (await parseConfig(text, "example.org")) as ServerConfig;

describe("x509pop configuration", () => {
  it("server defaults: external_pki, fingerprint template, /spire-exchange/, 4 intermediates, 8192-bit RSA", async () => {
    const c = await server(`ca_bundle_path = "${ca1}"`);
    expect(c).toMatchObject({ side: "server", mode: "external_pki", svidPrefix: "/spire-exchange/", maxIntermediates: 4, maxRsaKeySize: 8192, verifyClientIp: false });
    expect(c.pathTemplate.text).toBe("/{{ .PluginName }}/{{ .Fingerprint }}");
    expect(c.trustBundle.size).toBe(1);
  });

  it("reads every CA of ca_bundle_paths, spiffe mode's template and prefix", async () => {
    expect((await server(`ca_bundle_paths = ["${ca1}", "${ca2}"]`)).trustBundle.size).toBe(3);
    const s = await server('mode = "spiffe"\nspiffe_prefix = "/exchange"\nmax_intermediates = 2\nverify_client_ip = true');
    expect(s).toMatchObject({ mode: "spiffe", svidPrefix: "/exchange/", maxIntermediates: 2, verifyClientIp: true });
    expect(s.pathTemplate.text).toBe("/{{ .PluginName }}/{{ .SVIDPathTrimmed }}");
    expect((await server('mode = "spiffe"\nspiffe_prefix = ""')).svidPrefix).toBe("/");
  });

  it("reports every problem with SPIRE's words", async () => {
    await expect(server(`ca_bundle_path = "${notPem}"`)).rejects.toThrow(`unable to load trust bundle "${notPem}": no certificates found in file`);
    await expect(server('mode = "x"\nmax_rsa_key_size = -1')).rejects.toThrow("mode can only be either spiffe or external_pki; max_rsa_key_size must be greater than 0");
    await expect(server('mode = "spiffe"\nagent_path_template = "{{"')).rejects.toThrow(/^failed to parse agent svid template: "\{\{"/);
    await expect(server(`ca_bundle_path = "${ca1}"\nbogus = 1`)).rejects.toThrow(/^unable to decode configuration: .*bogus/);
    await expect(parseConfig('certificate_path = "/c"', "example.org")).rejects.toThrow("private_key_path is required");
  });

  it("an agent with the Workload API needs no files", async () => {
    expect(await parseConfig('spiffe_endpoint_socket = "unix:///run/spire/agent.sock"', "example.org")).toMatchObject({ side: "agent", spiffeEndpointSocket: "unix:///run/spire/agent.sock" });
  });
});
