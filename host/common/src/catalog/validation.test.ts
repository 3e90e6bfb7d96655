/**
 * `validate` at the catalog: real plugin processes (keymanager-disk,
 * nodeattestor-x509pop, datastore-sql and the catalog's test attestor)
 * started, asked Config.Validate, and stopped, with nothing configured.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText } from "@signet/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../../test/fakes/build-plugin.js";
import { newKey, pem, selfSignedCa } from "../../../../test/fakes/ca-files.js";
// @ts-expect-error: plain ESM build script, no type declarations
import { bundlePlugin } from "../../../../scripts/bundle-plugins.mjs";
import { createLogger } from "../log/logger.js";
import { Catalog, CatalogError, type CatalogOptions, type PluginRequest, validateFromConfig, validationReport } from "./index.js";

const root = join(__dirname, "../../../..");
const log = createLogger({ write: () => {} });
const scratch = mkdtempSync(join(tmpdir(), "signet-validate-test-"));
const bin = { disk: "", x509pop: "", sql: "", test: "" };
let caBundle = "";

beforeAll(async () => {
  const sqlPackage = JSON.parse(readFileSync(join(root, "plugins/datastore-sql/package.json"), "utf8")) as { signet: { external: string[] } };
  [bin.disk, bin.x509pop, bin.sql, bin.test] = await Promise.all([
    buildPlugin(join(root, "plugins/keymanager-disk/src/index.ts"), "validate-keymanager-disk", "KeyManager"),
    buildPlugin(join(root, "plugins/nodeattestor-x509pop/src/index.ts"), "validate-nodeattestor-x509pop", "NodeAttestor"),
    bundlePlugin(join(root, "plugins/datastore-sql/src/index.ts"), join(root, ".tmp/plugins/validate-datastore-sql"), {
      type: "DataStore",
      sourceConditions: true,
      external: sqlPackage.signet.external,
    }) as Promise<string>,
    buildPlugin(join(root, "test/fakes/plugins/test-workloadattestor.ts"), "validate-test-workloadattestor"),
  ]);
  caBundle = join(scratch, "agent-ca.pem");
  writeFileSync(caBundle, pem("CERTIFICATE", selfSignedCa(newKey())));
}, 120_000);

/** Plugin processes this test process still has as children. */
function children(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === process.pid && fields[0] !== "Z") out.push(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
    } catch {
      // gone meanwhile
    }
  }
  return out.filter((c) => Object.values(bin).some((b) => c.includes(b)));
}

const options = (side: "server" | "agent" = "server"): CatalogOptions => ({ side, trustDomain: "example.org", log, liveness: false, stopGraceMs: 500 });

function req(type: string, name: string, file: string, data: PluginRequest["data"], args: string[] = []): PluginRequest {
  return { type, name, source: { kind: "cmd", path: file }, args, data };
}
const inline = (o: unknown): PluginRequest["data"] => ({ kind: "inline", text: JSON.stringify(o) });

describe("Catalog.validate with real plugins", () => {
  it("answers valid for good configurations without applying them: no keys file, no database, processes gone", async () => {
    const keysPath = join(scratch, "good", "keys.json");
    const dbPath = join(scratch, "good-db", "datastore.sqlite3");
    const verdicts = await Catalog.validate(
      [
        req("DataStore", "sql", bin.sql, inline({ database_type: "sqlite3", connection_string: dbPath })),
        req("KeyManager", "disk", bin.disk, inline({ keys_path: keysPath })),
        req("NodeAttestor", "x509pop", bin.x509pop, inline({ ca_bundle_path: caBundle })),
      ],
      options(),
    );
    expect(verdicts).toEqual([
      { type: "DataStore", name: "sql", valid: true, notes: [], answer: "validated" },
      { type: "KeyManager", name: "disk", valid: true, notes: [], answer: "validated" },
      { type: "NodeAttestor", name: "x509pop", valid: true, notes: [], answer: "validated" },
    ]);
    // Configure would have created both; Validate must not.
    expect(existsSync(keysPath)).toBe(false);
    expect(existsSync(join(scratch, "good-db"))).toBe(false);
    expect(children()).toEqual([]);
  });

  it("returns each plugin's own notes for bad plugin_data", async () => {
    const missingBundle = join(scratch, "nope", "ca.pem");
    const verdicts = await Catalog.validate(
      [
        req("DataStore", "sql", bin.sql, inline({ database_type: "oracle", connection_string: "x" })),
        req("KeyManager", "disk", bin.disk, inline({})),
        req("NodeAttestor", "x509pop", bin.x509pop, inline({ ca_bundle_path: missingBundle })),
      ],
      options(),
    );
    expect(verdicts.map((v) => [v.type, v.valid, v.answer])).toEqual([
      ["DataStore", false, "validated"],
      ["KeyManager", false, "validated"],
      ["NodeAttestor", false, "validated"],
    ]);
    expect(verdicts[0]!.notes).toHaveLength(1);
    expect(verdicts[0]!.notes[0]).toMatch(/^datastore-sql: .*database_type.*"oracle"/);
    expect(verdicts[1]!.notes).toEqual(["keymanager disk: keys_path (server) or directory (agent) is required"]);
    expect(verdicts[2]!.notes).toEqual([`unable to load trust bundle "${missingBundle}": open ${missingBundle}: no such file or directory`]);
    expect(children()).toEqual([]);
  });

  it("gives one note per problem when a plugin finds several (x509pop, as SPIRE's notes)", async () => {
    const [v] = await Catalog.validate([req("NodeAttestor", "x509pop", bin.x509pop, inline({ mode: "x", max_rsa_key_size: -1 }))], options());
    expect(v).toEqual({
      type: "NodeAttestor",
      name: "x509pop",
      valid: false,
      notes: ["mode can only be either spiffe or external_pki", "max_rsa_key_size must be greater than 0"],
      answer: "validated",
    });
  });

  it("notes an unreadable plugin_data_file, plugin_data for a plugin without Config, and a failing Validate", async () => {
    const missing = join(scratch, "missing.conf");
    const verdicts = await Catalog.validate(
      [
        req("WorkloadAttestor", "file", bin.test, { kind: "file", path: missing }, ["good"]),
        req("WorkloadAttestor", "noconfig", bin.test, inline({ colour: "red" }), ["no-config"]),
        req("WorkloadAttestor", "noconfig-nodata", bin.test, { kind: "none" }, ["no-config"]),
        req("WorkloadAttestor", "bad", bin.test, inline({ colour: "red" }), ["bad-config"]),
      ],
      options("agent"),
    );
    expect(verdicts).toEqual([
      { type: "WorkloadAttestor", name: "file", valid: false, notes: [`failed to read plugin configuration: open ${missing}: no such file or directory`], answer: "unreadable-data" },
      { type: "WorkloadAttestor", name: "noconfig", valid: false, notes: ["no supported configuration interface found"], answer: "no-config-service" },
      { type: "WorkloadAttestor", name: "noconfig-nodata", valid: true, notes: [], answer: "not-configurable" },
      { type: "WorkloadAttestor", name: "bad", valid: false, notes: ["colour: must be red or blue"], answer: "validated" },
    ]);
  });

  it("fails as load does when a plugin cannot start, and leaves no process behind", async () => {
    const err = await Catalog.validate(
      [req("KeyManager", "disk", bin.disk, inline({ keys_path: join(scratch, "k.json") })), req("WorkloadAttestor", "early", bin.test, { kind: "none" }, ["early-exit"])],
      options("agent"),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CatalogError);
    expect((err as Error).message).toMatch(/^failed to load plugin WorkloadAttestor "early": /);
    expect(children()).toEqual([]);
  });
});

describe("validateFromConfig", () => {
  const validate = async (side: "server" | "agent", plugins: string) => {
    const text = `plugins {\n${plugins}\n}`;
    const tree = await parseConfigText(text);
    return validateFromConfig(tree.plugins, { ...options(side), source: { text } });
  };

  it("turns unmet type constraints into notes, SPIRE's datastore note included, and still asks the plugins", async () => {
    const v = await validate(
      "server",
      `KeyManager "disk" {
         plugin_cmd = "${bin.disk}"
         plugin_data { keys_path = "" }
       }
       KeyManager "other" {
         plugin_cmd = "${bin.disk}"
         plugin_data { keys_path = "${join(scratch, "other.json")}" }
       }
       NodeAttestor "join_token" {}`,
    );
    expect(v.valid).toBe(false);
    expect(v.constraints).toEqual([
      { id: 'DataStore "sql"', notes: ["'datastore' must be configured"] },
      { id: "KeyManager", notes: ["constraint not satisfied: expected exactly 1 but got 2"] },
    ]);
    expect(v.plugins.map((p) => [p.name, p.valid, p.notes])).toEqual([
      ["disk", false, ["keymanager disk: keys_path is empty; expected the path of the keys file"]],
      ["other", true, []],
    ]);
    expect(validationReport(v, "server")).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        "SPIRE server configuration file is invalid.\nValidation errors:\n" +
        '\tKeyManager "disk":\n\t\tkeymanager disk: keys_path is empty; expected the path of the keys file\n' +
        "\tDataStore \"sql\":\n\t\t'datastore' must be configured\n" +
        "\tKeyManager:\n\t\tconstraint not satisfied: expected exactly 1 but got 2\n",
    });
  });

  it("is valid when every plugin is and the constraints hold; disabled blocks are not started", async () => {
    const v = await validate(
      "agent",
      `KeyManager "disk" {
         plugin_cmd = "${bin.disk}"
         plugin_data { directory = "${join(scratch, "agent-dir")}" }
       }
       NodeAttestor "join_token" {}
       WorkloadAttestor "test" {
         plugin_cmd = "${bin.test}"
         plugin_args = ["good"]
         plugin_data { colour = "blue" }
       }
       WorkloadAttestor "off" {
         enabled = false
         plugin_cmd = "/nonexistent/plugin"
       }`,
    );
    expect(v).toEqual({
      valid: true,
      constraints: [],
      plugins: [
        { type: "KeyManager", name: "disk", valid: true, notes: [], answer: "validated" },
        { type: "WorkloadAttestor", name: "test", valid: true, notes: [], answer: "validated" },
      ],
    });
    expect(existsSync(join(scratch, "agent-dir"))).toBe(false);
    expect(validationReport(v, "agent")).toEqual({ exitCode: 0, stdout: "SPIRE agent configuration file is valid.\n", stderr: "" });
  });

  it("refuses an external join_token as SPIRE does, before starting anything", async () => {
    await expect(validate("agent", `NodeAttestor "join_token" { plugin_cmd = "${bin.test}" }`)).rejects.toThrow(
      /^the built-in join_token node attestor cannot be overridden by an external plugin$/,
    );
  });
});

afterAll(() => {
  expect(children()).toEqual([]);
});
