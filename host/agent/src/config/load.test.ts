import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@signet/config";
import { afterAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "signet-agent-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, name = `agent-${++n}.conf`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** An agent.conf with the three required keys plus `extra` lines inside `agent { }`. */
function agentConf(extra = "", after = ""): string {
  return file(`agent {\n trust_domain = "example.org"\n server_address = "spire-server"\n server_port = 8081\n${extra}\n}\n${after}`);
}

async function configError(path: string, options?: Parameters<typeof loadAgentConfig>[1]): Promise<ConfigError> {
  try {
    await loadAgentConfig(path, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`${path} loaded without error`);
}

describe("loadAgentConfig defaults", () => {
  it("applies SPIRE's defaults to a minimal file", async () => {
    const path = agentConf();
    const c = await loadAgentConfig(path);
    expect(c.path).toBe(path);
    expect(c.trustDomain.name).toBe("example.org");
    expect(c.serverAddress).toBe("spire-server");
    expect(c.serverPort).toBe(8081);
    // data_dir "." is relative to the file's folder.
    expect(c.dataDir).toBe(dir);
    expect(c.socketPath).toBe("/tmp/spire-agent/public/api.sock");
    expect(c.adminSocketPath).toBeUndefined();
    expect(c.trustBundle).toEqual({ kind: "none" });
    expect(c.joinToken).toBeUndefined();
    expect(c.allowUnauthenticatedVerifiers).toBe(false);
    expect(c.allowedForeignJwtClaims).toEqual([]);
    expect(c.disableWorkloadApi).toBe(false);
    expect(c.workloadKeyType).toBe("ec-p256");
    expect(c.availabilityTargetMs).toBeUndefined();
    expect(c.x509SvidCacheMaxSize).toBe(1000);
    expect(c.jwtSvidCacheMaxSize).toBe(1000);
    expect(c.disableX509SvidPrefetch).toBe(false);
    expect(c.syncIntervalMs).toBe(5_000);
    expect(c.jwtSvidCacheHitTimeoutMs).toBe(30_000);
    expect(c.logLevel).toBe("INFO");
    expect(c.logFormat).toBe("text");
    expect(c.logFile).toBeUndefined();
    expect(c.healthChecks).toEqual({ listenerEnabled: false, bindAddress: "localhost", bindPort: 80, livePath: "/live", readyPath: "/ready" });
    expect(c.ignoredKeys).toEqual([]);
  });

  it("decodes the other keys and durations", async () => {
    const c = await loadAgentConfig(
      agentConf(
        ` trust_bundle_path = "/etc/bundle.pem"\n trust_bundle_format = "spiffe"\n data_dir = "/var/lib/agent"\n socket_path = "/run/public/api.sock"\n admin_socket_path = "/run/admin/admin.sock"\n workload_x509_svid_key_type = "rsa-2048"\n availability_target = "30h"\n x509_svid_cache_max_size = 7\n jwt_svid_cache_max_size = 8\n disable_x509_svid_prefetch = true\n log_level = "debug"\n log_format = "JSON"\n experimental { sync_interval = "2s"\n jwt_svid_cache_hit_timeout = "5s" }`,
        `health_checks {\n listener_enabled = true\n bind_port = "8088"\n}`,
      ),
    );
    expect(c.trustBundle).toEqual({ kind: "path", path: "/etc/bundle.pem", format: "spiffe" });
    expect(c.dataDir).toBe("/var/lib/agent");
    expect(c.socketPath).toBe("/run/public/api.sock");
    expect(c.adminSocketPath).toBe("/run/admin/admin.sock");
    expect(c.workloadKeyType).toBe("rsa-2048");
    expect(c.availabilityTargetMs).toBe(30 * 3600_000);
    expect(c.x509SvidCacheMaxSize).toBe(7);
    expect(c.jwtSvidCacheMaxSize).toBe(8);
    expect(c.disableX509SvidPrefetch).toBe(true);
    expect(c.syncIntervalMs).toBe(2_000);
    expect(c.jwtSvidCacheHitTimeoutMs).toBe(5_000);
    expect(c.logLevel).toBe("DEBUG");
    expect(c.logFormat).toBe("json");
    expect(c.healthChecks.listenerEnabled).toBe(true);
    expect(c.healthChecks.bindPort).toBe(8088);
  });

  it("accepts insecure_bootstrap and a https trust_bundle_url", async () => {
    expect((await loadAgentConfig(agentConf(" insecure_bootstrap = true"))).trustBundle).toEqual({ kind: "insecure" });
    expect((await loadAgentConfig(agentConf(` trust_bundle_url = "https://bundle.example.org/b.pem"`))).trustBundle).toEqual({
      kind: "url",
      url: "https://bundle.example.org/b.pem",
      format: "pem",
    });
  });

  it("lists keys SPIRE has but Signet does not act on", async () => {
    const c = await loadAgentConfig(agentConf(` rebootstrap_mode = "auto"\n profiling_enabled = true`));
    expect(c.ignoredKeys).toEqual(["agent.rebootstrap_mode", "agent.profiling_enabled"]);
  });
});

describe("loadAgentConfig cross-key errors", () => {
  it("refuses both trust bundle sources", async () => {
    const e = await configError(agentConf(` trust_bundle_path = "/a.pem"\n trust_bundle_url = "https://b/bundle"`));
    expect(e.path).toBe("agent.trust_bundle_path");
    expect(e.detail).toBe("only one of trust_bundle_url or trust_bundle_path can be specified, not both");
  });

  it("refuses insecure_bootstrap with a trust bundle path or URL", async () => {
    for (const key of [` trust_bundle_path = "/a.pem"`, ` trust_bundle_url = "https://b/bundle"`]) {
      const e = await configError(agentConf(` insecure_bootstrap = true\n${key}`));
      expect(e.path).toBe("agent.insecure_bootstrap");
      expect(e.detail).toBe("only one of insecure_bootstrap, trust_bundle_url, or trust_bundle_path can be specified");
    }
  });

  it("refuses an http trust_bundle_url without a unix socket", async () => {
    const e = await configError(agentConf(` trust_bundle_url = "http://b/bundle"`));
    expect(e.path).toBe("agent.trust_bundle_url");
    expect(e.detail).toBe("trust bundle URL must start with https://");
  });

  it("refuses join_token together with join_token_file", async () => {
    const e = await configError(agentConf(` join_token = "abc"\n join_token_file = "token"`));
    expect(e.path).toBe("agent.join_token");
    expect(e.detail).toBe("only one of join_token or join_token_file can be specified, not both");
  });

  it("refuses an admin socket in the public socket's directory or below it", async () => {
    for (const admin of ["/run/public/admin.sock", "/run/public/sub/admin.sock"]) {
      const e = await configError(agentConf(` socket_path = "/run/public/api.sock"\n admin_socket_path = "${admin}"`));
      expect(e.path).toBe("agent.admin_socket_path");
      expect(e.detail).toMatch(/^admin socket cannot be in the same directory or a subdirectory/);
    }
    // A sibling directory whose name merely starts the same is fine.
    const c = await loadAgentConfig(agentConf(` socket_path = "/run/public/api.sock"\n admin_socket_path = "/run/public-admin/admin.sock"`));
    expect(c.adminSocketPath).toBe("/run/public-admin/admin.sock");
  });

  it("keeps jwt_svid_cache_hit_timeout within 5s..30s", async () => {
    for (const bad of ["4s", "31s"]) {
      const e = await configError(agentConf(` experimental { jwt_svid_cache_hit_timeout = "${bad}" }`));
      expect(e.path).toBe("agent.experimental.jwt_svid_cache_hit_timeout");
      expect(e.detail).toBe("must be between 5s and 30s");
    }
    for (const [good, ms] of [["5s", 5_000], ["30s", 30_000]] as const) {
      expect((await loadAgentConfig(agentConf(` experimental { jwt_svid_cache_hit_timeout = "${good}" }`))).jwtSvidCacheHitTimeoutMs).toBe(ms);
    }
  });

  it("refuses an availability_target under 24h", async () => {
    const e = await configError(agentConf(` availability_target = "23h59m"`));
    expect(e.path).toBe("agent.availability_target");
    expect(e.detail).toBe("must be at least 24h");
    expect((await loadAgentConfig(agentConf(` availability_target = "24h"`))).availabilityTargetMs).toBe(24 * 3600_000);
  });

  it("refuses a trust domain that does not parse", async () => {
    const e = await configError(file(`agent {\n trust_domain = "Bad Domain"\n server_address = "s"\n server_port = 8081\n}`));
    expect(e.path).toBe("agent.trust_domain");
    expect(e.detail).toMatch(/^could not parse trust_domain "Bad Domain": /);
  });

  it("rejects an unknown key, as the stock agent does", async () => {
    const e = await configError(agentConf(` no_such_key = true`));
    expect(e.message).toContain("no_such_key");
  });

  it("requires server_port", async () => {
    const e = await configError(file(`agent {\n trust_domain = "example.org"\n server_address = "s"\n}`));
    expect(e.message).toContain("server_port");
  });
});

describe("loadAgentConfig flags", () => {
  it("lets run/validate flags override the file", async () => {
    const c = await loadAgentConfig(agentConf(` join_token = "from-file"\n log_level = "WARN"`), {
      flags: {
        serverAddress: "other-server",
        serverPort: 9443,
        trustDomain: "other.test",
        joinToken: "from-flag",
        socketPath: "/run/flag/api.sock",
        dataDir: "/var/flag",
        logLevel: "trace",
        logFormat: "json",
        allowUnauthenticatedVerifiers: true,
        disableWorkloadApi: true,
        trustBundle: "/flag/bundle.pem",
      },
    });
    expect(c.serverAddress).toBe("other-server");
    expect(c.serverPort).toBe(9443);
    expect(c.trustDomain.name).toBe("other.test");
    expect(c.joinToken).toBe("from-flag");
    expect(c.socketPath).toBe("/run/flag/api.sock");
    expect(c.dataDir).toBe("/var/flag");
    expect(c.logLevel).toBe("TRACE");
    expect(c.logFormat).toBe("json");
    expect(c.allowUnauthenticatedVerifiers).toBe(true);
    expect(c.disableWorkloadApi).toBe(true);
    expect(c.trustBundle).toEqual({ kind: "path", path: "/flag/bundle.pem", format: "pem" });
  });

  it("checks cross-key rules after the flags are applied", async () => {
    const e = await configError(agentConf(` trust_bundle_url = "https://b/bundle"`), { flags: { trustBundle: "/flag/bundle.pem" } });
    expect(e.path).toBe("agent.trust_bundle_path");
  });
});

describe("join_token_file", () => {
  it("reads and trims the file, relative to the config's folder", async () => {
    writeFileSync(join(dir, "token.txt"), "  the-token\n\n");
    const c = await loadAgentConfig(agentConf(` join_token_file = "token.txt"`));
    expect(c.joinToken).toBe("the-token");
  });

  it("reads the file named by -joinTokenFile", async () => {
    const path = join(dir, "flag-token.txt");
    writeFileSync(path, "flag-token\n");
    const c = await loadAgentConfig(agentConf(), { flags: { joinTokenFile: path } });
    expect(c.joinToken).toBe("flag-token");
  });

  it("refuses an empty or missing token file", async () => {
    writeFileSync(join(dir, "empty-token.txt"), " \n");
    const empty = await configError(agentConf(` join_token_file = "empty-token.txt"`));
    expect(empty.path).toBe("agent.join_token_file");
    expect(empty.detail).toBe("join token file is empty");
    const missing = await configError(agentConf(` join_token_file = "no-such-token.txt"`));
    expect(missing.path).toBe("agent.join_token_file");
    expect(missing.detail).toMatch(/^unable to read join token file: ENOENT/);
  });
});
