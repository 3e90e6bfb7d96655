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
    expect(config.ignoredKeys).toContain("server.federation.bundle_endpoint");
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

  it("names a missing file", async () => {
    await expect(loadServerConfig(join(dir, "absent.conf"))).rejects.toThrow(/no such file or directory/);
  });
});
