/**
 * `signet-server validate` end to end through the CLI: server.conf with
 * real plugin programs (datastore-sql, keymanager-disk, x509pop), exit
 * codes and the exact lines spire-server validate prints.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliEnv } from "@signet/host-common";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../../../test/fakes/build-plugin.js";
import { newKey, pem, selfSignedCa } from "../../../../../test/fakes/ca-files.js";
// @ts-expect-error: plain ESM build script, no type declarations
import { bundlePlugin } from "../../../../../scripts/bundle-plugins.mjs";
import { runCli } from "../cli.js";

const root = join(__dirname, "../../../../..");
const dir = mkdtempSync(join(tmpdir(), "signet-server-validate-"));
const bin = { disk: "", x509pop: "", sql: "" };
let caBundle = "";

beforeAll(async () => {
  const sqlPackage = JSON.parse(readFileSync(join(root, "plugins/datastore-sql/package.json"), "utf8")) as { signet: { external: string[] } };
  [bin.disk, bin.x509pop, bin.sql] = await Promise.all([
    buildPlugin(join(root, "plugins/keymanager-disk/src/index.ts"), "server-validate-keymanager-disk", "KeyManager"),
    buildPlugin(join(root, "plugins/nodeattestor-x509pop/src/index.ts"), "server-validate-nodeattestor-x509pop", "NodeAttestor"),
    bundlePlugin(join(root, "plugins/datastore-sql/src/index.ts"), join(root, ".tmp/plugins/server-validate-datastore-sql"), {
      type: "DataStore",
      sourceConditions: true,
      external: sqlPackage.signet.external,
    }) as Promise<string>,
  ]);
  caBundle = join(dir, "agent-ca.pem");
  writeFileSync(caBundle, pem("CERTIFICATE", selfSignedCa(newKey())));
}, 120_000);

async function cli(args: string[]) {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.alloc(0),
    vars: {},
    baseDir: "",
  };
  return { code: await runCli(args, env), ...out };
}

let n = 0;
function serverConf(data: { sql: string; disk: string; x509pop: string }): string {
  const path = join(dir, `server-${++n}.conf`);
  writeFileSync(
    path,
    `server {
  trust_domain = "example.org"
  data_dir = "${dir}"
}
plugins {
  DataStore "sql" {
    plugin_cmd = "${bin.sql}"
    plugin_data { ${data.sql} }
  }
  KeyManager "disk" {
    plugin_cmd = "${bin.disk}"
    plugin_data { ${data.disk} }
  }
  NodeAttestor "join_token" {}
  NodeAttestor "x509pop" {
    plugin_cmd = "${bin.x509pop}"
    plugin_data { ${data.x509pop} }
  }
}
`,
  );
  return path;
}

describe("signet-server validate", () => {
  it("prints SPIRE's valid line and exits 0 when every plugin accepts its data; nothing is applied", async () => {
    const db = join(dir, "db", "datastore.sqlite3");
    const keys = join(dir, "keys", "keys.json");
    const conf = serverConf({
      sql: `database_type = "sqlite3"\n connection_string = "${db}"`,
      disk: `keys_path = "${keys}"`,
      x509pop: `ca_bundle_path = "${caBundle}"`,
    });
    expect(await cli(["validate", "-config", conf])).toEqual({ code: 0, stdout: "SPIRE server configuration file is valid.\n", stderr: "" });
    expect(existsSync(join(dir, "db"))).toBe(false);
    expect(existsSync(keys)).toBe(false);
  });

  it("lists each invalid plugin's notes under its name and exits 1", async () => {
    const missing = join(dir, "nope", "ca.pem");
    const conf = serverConf({
      sql: `database_type = "oracle"\n connection_string = "x"`,
      disk: "",
      x509pop: `ca_bundle_path = "${missing}"`,
    });
    const r = await cli(["validate", "-config", conf]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n");
    expect(lines.slice(0, 3)).toEqual(["SPIRE server configuration file is invalid.", "Validation errors:", '\tDataStore "sql":']);
    expect(lines[3]).toMatch(/^\t\tdatastore-sql: .*database_type.*"oracle"/);
    expect(lines.slice(4)).toEqual([
      '\tKeyManager "disk":',
      "\t\tkeymanager disk: keys_path (server) or directory (agent) is required",
      '\tNodeAttestor "x509pop":',
      `\t\tunable to load trust bundle "${missing}": open ${missing}: no such file or directory`,
      "",
    ]);
  });

  it("expands environment variables with -expandEnv, and only then", async () => {
    process.env.SIGNET_VALIDATE_TEST_KEYS = join(dir, "env-keys.json");
    const conf = serverConf({
      sql: `database_type = "sqlite3"\n connection_string = "${join(dir, "env.sqlite3")}"`,
      disk: 'keys_path = "${SIGNET_VALIDATE_TEST_KEYS}"',
      x509pop: `ca_bundle_path = "${caBundle}"`,
    });
    try {
      expect(await cli(["validate", "-config", conf, "-expandEnv"])).toEqual({ code: 0, stdout: "SPIRE server configuration file is valid.\n", stderr: "" });
      process.env.SIGNET_VALIDATE_TEST_KEYS = "";
      const empty = await cli(["validate", "-expandEnv", "-config", conf]);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toContain('\tKeyManager "disk":\n\t\tkeymanager disk: keys_path is empty; expected the path of the keys file\n');
    } finally {
      delete process.env.SIGNET_VALIDATE_TEST_KEYS;
    }
  });

  it("reports a plugin that cannot start as SPIRE does: 'Could not validate configuration file', exit 1", async () => {
    const conf = join(dir, "noplugin.conf");
    writeFileSync(
      conf,
      `server { trust_domain = "example.org" }
plugins {
  DataStore "sql" { plugin_cmd = "${join(dir, "no-such-plugin")}" }
  KeyManager "disk" {
    plugin_cmd = "${bin.disk}"
    plugin_data { keys_path = "${join(dir, "k.json")}" }
  }
}
`,
    );
    const r = await cli(["validate", "-config", conf]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Could not validate configuration file: failed to load plugin DataStore "sql": .*no-such-plugin.*\n$/);
  });

  it("reports a malformed plugins block and a missing file as an invalid configuration file", async () => {
    const conf = join(dir, "badblock.conf");
    writeFileSync(conf, `server { trust_domain = "example.org" }\nplugins {\n  Frobnicator "x" {}\n}\n`);
    const bad = await cli(["validate", "-config", conf]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^SPIRE server configuration file is invalid: .*Frobnicator.*\n$/);
    const missing = await cli(["validate", "-config", join(dir, "absent.conf")]);
    expect(missing).toEqual({
      code: 1,
      stdout: "",
      stderr: `SPIRE server configuration file is invalid: could not find config file ${join(dir, "absent.conf")}: please use the -config flag\n`,
    });
  });

  it("answers --help with run's flags (-config, -expandEnv, …) on stderr", async () => {
    const r = await cli(["validate", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Usage of validate:\n/);
    for (const flag of ["-config string", "-expandEnv\n", "-trustDomain string", "-dataDir string", "-logLevel string", "-socketPath string"]) {
      expect(r.stderr).toContain(`\n  ${flag}`);
    }
  });
});
