import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@signet/config";
import { describe, expect, it } from "vitest";
import { loadServerConfig } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "signet-server-config-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadServerConfig", () => {
  it("applies SPIRE's defaults to a minimal file", async () => {
    const config = await loadServerConfig(file("min.conf", `server { trust_domain = "example.org" }`));
    expect(config.trustDomain.name).toBe("example.org");
    expect(config.bindAddress).toBe("0.0.0.0");
    expect(config.bindPort).toBe(8081);
    expect(config.socketPath).toBe("/tmp/spire-server/private/api.sock");
    expect(config.caKeyType).toBe("ec-p256");
    expect(config.jwtKeyType).toBe("ec-p256");
    expect(config.caTtlSeconds).toBe(86400);
    expect(config.defaultX509SvidTtlSeconds).toBe(3600);
    expect(config.defaultJwtSvidTtlSeconds).toBe(300);
    expect(config.agentTtlSeconds).toBe(3600);
    expect(config.caSubject).toEqual({ country: ["US"], organization: ["SPIFFE"], commonName: "" });
    expect(config.rateLimit).toEqual({ attestation: true, signing: true });
    expect(config.logLevel).toBe("INFO");
    expect(config.logFormat).toBe("text");
    expect(config.healthChecks.listenerEnabled).toBe(false);
  });

  it("loads a SPIRE-layout file with every plugin block shape", async () => {
    const path = fileURLToPath(new URL("./testdata/full.conf", import.meta.url));
    const config = await loadServerConfig(path);
    expect(config.trustDomain.name).toBe("example.org");
    expect(config.caTtlSeconds).toBe(168 * 3600);
    expect(config.adminIds).toEqual(["spiffe://example.org/admin"]);
    expect(config.rateLimit.signing).toBe(false);
    expect(config.plugins).toBeDefined();
    expect(config.ignoredKeys).not.toContain("server.federation.bundle_endpoint");
    expect(config.federation.bundleEndpoint).toEqual({ address: "0.0.0.0", port: 8443, refreshHintSeconds: 600, profile: { kind: "https_spiffe" } });
    expect(config.federation.warnings).toEqual([expect.stringMatching(/^Bundle endpoint is configured but has no profile set, using https_spiffe as default/)]);
    const domain1 = config.federation.federatesWith.get("domain1.test");
    expect(domain1?.endpointUrl).toBe("https://1.2.3.4:8443");
    expect(domain1?.profile.kind === "https_spiffe" && domain1.profile.endpointSpiffeId.toString()).toBe("spiffe://domain1.test/spire/server");
    expect(config.federation.federatesWith.get("domain2.test")).toEqual({ endpointUrl: "https://domain2.test/bundle", profile: { kind: "https_web" } });
  });

  it("lets flags override the file", async () => {
    const path = file("flags.conf", `server { trust_domain = "example.org"\n bind_port = 1 }`);
    const config = await loadServerConfig(path, { flags: { serverPort: 9999, trustDomain: "other.test", logLevel: "debug" } });
    expect(config.bindPort).toBe(9999);
    expect(config.trustDomain.name).toBe("other.test");
    expect(config.logLevel).toBe("DEBUG");
  });

  it("derives agent_ttl and jwt_key_type", async () => {
    const path = file("derive.conf", `server {\n trust_domain = "example.org"\n default_x509_svid_ttl = "2h"\n ca_key_type = "rsa-2048"\n}`);
    const config = await loadServerConfig(path);
    expect(config.agentTtlSeconds).toBe(7200);
    expect(config.jwtKeyType).toBe("rsa-2048");
  });

  it.each([
    [`server { trust_domain = "Bad Domain" }`, /trust_domain/],
    [`server { bind_port = 1 }`, /trust_domain/],
    [`server {\n trust_domain = "example.org"\n no_such_key = 1\n}`, /no_such_key/],
    [`server {\n trust_domain = "example.org"\n ca_key_type = "ec-p521"\n}`, /ca_key_type/],
    [`server {\n trust_domain = "example.org"\n ca_ttl = "soon"\n}`, /ca_ttl/],
    [`server {\n trust_domain = "example.org"\n admin_ids = ["admin"]\n}`, /admin SPIFFE ID/],
  ])("refuses %j", async (text, message) => {
    const path = file(`bad-${Math.random()}.conf`, text);
    const error = await loadServerConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(message);
  });

  describe("federation", () => {
    const conf = (federation: string) => `server {\n trust_domain = "example.org"\n federation {\n${federation}\n }\n}`;
    const load = (federation: string) => loadServerConfig(file(`fed-${Math.random()}.conf`, conf(federation)));

    it("decodes a bundle endpoint with SPIRE's defaults and both profiles", async () => {
      const spiffe = await load(`bundle_endpoint {\n profile "https_spiffe" {}\n }`);
      expect(spiffe.federation.bundleEndpoint).toEqual({ address: "0.0.0.0", port: 0, refreshHintSeconds: 300, profile: { kind: "https_spiffe" } });
      expect(spiffe.federation.warnings).toEqual([]);
      expect(spiffe.federation.federatesWith.size).toBe(0);

      const web = await load(`bundle_endpoint {
        address = "127.0.0.1"
        port = 8443
        refresh_hint = "30s"
        profile "https_web" {
          serving_cert_file {
            cert_file_path = "/c.pem"
            key_file_path = "/k.pem"
          }
        }
      }`);
      expect(web.federation.bundleEndpoint).toEqual({
        address: "127.0.0.1",
        port: 8443,
        refreshHintSeconds: 30,
        profile: { kind: "https_web", servingCertFile: { certFilePath: "/c.pem", keyFilePath: "/k.pem", fileSyncIntervalMs: 3600_000 } },
      });
      expect(web.federation.warnings).toEqual(["Bundle endpoint refresh hint set too low. SPIRE will not refresh more often than 1 minute"]);

      const synced = await load(`bundle_endpoint {\n profile "https_web" {\n serving_cert_file {\n cert_file_path = "c"\n key_file_path = "k"\n file_sync_interval = "5m"\n }\n }\n }`);
      expect(synced.federation.bundleEndpoint?.profile).toMatchObject({ servingCertFile: { fileSyncIntervalMs: 300_000 } });
    });

    it("decodes federates_with blocks keyed by trust domain", async () => {
      const config = await load(`federates_with "b.test" {
        bundle_endpoint_url = "https://127.0.0.1:8443"
        bundle_endpoint_profile "https_spiffe" {
          endpoint_spiffe_id = "spiffe://b.test/spire/server"
        }
      }
      federates_with "c.test" {
        bundle_endpoint_url = "HTTPS://c.test/bundle"
        bundle_endpoint_profile "https_web" {}
      }`);
      expect([...config.federation.federatesWith.keys()]).toEqual(["b.test", "c.test"]);
      const b = config.federation.federatesWith.get("b.test");
      expect(b?.profile.kind === "https_spiffe" ? b.profile.endpointSpiffeId.toString() : undefined).toBe("spiffe://b.test/spire/server");
    });

    it.each([
      ["ACME in the https_web profile", `bundle_endpoint {\n profile "https_web" {\n acme {\n domain_name = "example.org"\n email = "a@example.org"\n }\n }\n }`, /server\.federation\.bundle_endpoint\.profile "https_web"\.acme: ACME is not supported by Signet \(it has no way to reach an ACME CA\)/],
      ["the deprecated bundle_endpoint.acme", `bundle_endpoint {\n acme {\n domain_name = "example.org"\n }\n }`, /server\.federation\.bundle_endpoint\.acme: ACME is not supported by Signet/],
      ["acme and profile together", `bundle_endpoint {\n acme {}\n profile "https_spiffe" {}\n }`, /either bundle endpoint 'acme' or 'profile' can be set, but not both/],
      ["an https_web profile with neither acme nor files", `bundle_endpoint {\n profile "https_web" {}\n }`, /malformed https_web profile configuration: 'acme' or 'serving_cert_file' is required/],
      ["serving_cert_file without a key", `bundle_endpoint {\n profile "https_web" {\n serving_cert_file {\n cert_file_path = "c"\n }\n }\n }`, /serving_cert_file\.key_file_path: must be configured/],
      ["an unknown endpoint profile", `bundle_endpoint {\n profile "https_other" {}\n }`, /unknown bundle endpoint profile configured; current supported profiles are "https_spiffe" and 'https_web"/],
      ["two endpoint profiles", `bundle_endpoint {\n profile "https_spiffe" {}\n profile "https_web" {}\n }`, /exactly one bundle endpoint profile is expected/],
      ["a bad refresh hint", `bundle_endpoint {\n refresh_hint = "soon"\n }`, /refresh_hint/],
      ["an unknown key in a profile", `bundle_endpoint {\n profile "https_spiffe" {\n endpoint_spiffe_id = "x"\n }\n }`, /endpoint_spiffe_id/],
      ["a relationship without URL", `federates_with "b.test" {\n bundle_endpoint_profile "https_web" {}\n }`, /federation\.federates_with\["b\.test"\]\.bundle_endpoint_url must be configured/],
      ["a plain-HTTP relationship", `federates_with "b.test" {\n bundle_endpoint_url = "http://b.test"\n bundle_endpoint_profile "https_web" {}\n }`, /bundle_endpoint_url must use the HTTPS protocol; URL found: "http:\/\/b\.test"/],
      ["a relationship without profile", `federates_with "b.test" {\n bundle_endpoint_url = "https://b.test"\n }`, /federation configuration for trust domain "b\.test": missing bundle endpoint configuration/],
      ["an unknown relationship profile", `federates_with "b.test" {\n bundle_endpoint_url = "https://b.test"\n bundle_endpoint_profile "nope" {}\n }`, /error parsing federation relationship for trust domain "b\.test": no bundle endpoint profile defined/],
      ["a bad endpoint SPIFFE ID", `federates_with "b.test" {\n bundle_endpoint_url = "https://b.test"\n bundle_endpoint_profile "https_spiffe" {\n endpoint_spiffe_id = "b.test/server"\n }\n }`, /error parsing federation relationship for trust domain "b\.test": could not get endpoint SPIFFE ID: scheme is missing or invalid/],
      ["a bad trust domain", `federates_with "B Test" {\n bundle_endpoint_url = "https://b.test"\n bundle_endpoint_profile "https_web" {}\n }`, /invalid trust domain "B Test"/],
    ])("refuses %s", async (_what, text, message) => {
      const error = await load(text).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
    });
  });

  it("names a missing file", async () => {
    await expect(loadServerConfig(join(dir, "absent.conf"))).rejects.toThrow(/no such file or directory/);
  });
});
