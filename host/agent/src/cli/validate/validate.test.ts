/**
 * `signet-agent validate` end to end through the CLI: agent.conf with real
 * plugin programs (keymanager-disk, workloadattestor-unix, x509pop), and a
 * stock Go plugin built with spire-plugin-sdk that has no Validate.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Catalog, type CliEnv, createLogger } from "@signet/host-common";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../../../../../test/fakes/build-plugin.js";
import { goBuild, goBuildDir, goBuildTimeoutMs, haveGo, requireGoInCI } from "../../../../../test/e2e/go-toolchain.js";
import { runAgentCli } from "../cli.js";

const root = join(__dirname, "../../../../..");
const dir = mkdtempSync(join(tmpdir(), "signet-agent-validate-"));
const bin = { disk: "", unix: "", x509pop: "" };

beforeAll(async () => {
  [bin.disk, bin.unix, bin.x509pop] = await Promise.all([
    buildPlugin(join(root, "plugins/keymanager-disk/src/index.ts"), "agent-validate-keymanager-disk", "KeyManager"),
    buildPlugin(join(root, "plugins/workloadattestor-unix/src/index.ts"), "agent-validate-workloadattestor-unix", "WorkloadAttestor"),
    buildPlugin(join(root, "plugins/nodeattestor-x509pop/src/index.ts"), "agent-validate-nodeattestor-x509pop", "NodeAttestor"),
  ]);
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
  return { code: await runAgentCli(args, env), ...out };
}

let n = 0;
function agentConf(plugins: string): string {
  const path = join(dir, `agent-${++n}.conf`);
  writeFileSync(
    path,
    `agent {
  trust_domain = "example.org"
  server_address = "127.0.0.1"
  server_port = 8081
  data_dir = "${dir}"
  insecure_bootstrap = true
}
plugins {
${plugins}
}
`,
  );
  return path;
}

const disk = (data: string) => `KeyManager "disk" {\n plugin_cmd = "${bin.disk}"\n plugin_data { ${data} }\n}`;
const unix = (data: string) => `WorkloadAttestor "unix" {\n plugin_cmd = "${bin.unix}"\n plugin_data { ${data} }\n}`;

describe("signet-agent validate", () => {
  it("is registered: the command list names it with SPIRE's synopsis", async () => {
    const r = await cli(["--help"]);
    expect(r.stderr).toMatch(/\n {4}validate +Validates a SPIRE agent configuration file\n/);
  });

  it("prints SPIRE's valid line and exits 0 when every plugin accepts its data; nothing is applied", async () => {
    const keys = join(dir, "keys-dir");
    const conf = agentConf(`${disk(`directory = "${keys}"`)}\nNodeAttestor "join_token" {}\n${unix("discover_workload_path = true")}`);
    expect(await cli(["validate", "-config", conf])).toEqual({ code: 0, stdout: "SPIRE agent configuration file is valid.\n", stderr: "" });
    // Configure creates the directory; Validate must not.
    expect(existsSync(keys)).toBe(false);
  });

  it("lists each invalid plugin's notes under its name, and unmet constraints, and exits 1", async () => {
    const conf = agentConf(
      `${disk(`keys_path = "${join(dir, "k.json")}"\n directory = "${dir}"`)}
       NodeAttestor "x509pop" {
         plugin_cmd = "${bin.x509pop}"
         plugin_data { certificate_path = "${join(dir, "agent.crt")}" }
       }
       ${unix('workload_size_limit = "big"')}`,
    );
    const r = await cli(["validate", "-config", conf]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n");
    expect(lines.slice(0, 6)).toEqual([
      "SPIRE agent configuration file is invalid.",
      "Validation errors:",
      '\tKeyManager "disk":',
      "\t\tkeymanager disk: keys_path and directory are both set; set keys_path for the server's KeyManager or directory for the agent's, not both",
      '\tNodeAttestor "x509pop":',
      "\t\tprivate_key_path is required",
    ]);
    expect(lines[6]).toBe('\tWorkloadAttestor "unix":');
    expect(lines[7]).toMatch(/^\t\t.*workload_size_limit/);
    expect(lines.slice(8)).toEqual([""]);

    const noAttestor = await cli(["validate", "-config", agentConf(`${disk(`directory = "${dir}"`)}\nNodeAttestor "join_token" {}`)]);
    expect(noAttestor).toEqual({
      code: 1,
      stdout: "",
      stderr: "SPIRE agent configuration file is invalid.\nValidation errors:\n\tWorkloadAttestor:\n\t\tconstraint not satisfied: expected at least 1 but got 0\n",
    });
  });

  it("expands environment variables with -expandEnv", async () => {
    process.env.SIGNET_AGENT_VALIDATE_DIR = join(dir, "env-dir");
    try {
      const conf = agentConf(`${disk('directory = "${SIGNET_AGENT_VALIDATE_DIR}"')}\nNodeAttestor "join_token" {}\n${unix("")}`);
      expect(await cli(["validate", "-expandEnv", "-config", conf])).toEqual({ code: 0, stdout: "SPIRE agent configuration file is valid.\n", stderr: "" });
      process.env.SIGNET_AGENT_VALIDATE_DIR = "";
      const r = await cli(["validate", "-expandEnv", "-config", conf]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("\t\tkeymanager disk: directory is empty; expected the directory to keep the agent's keys in\n");
    } finally {
      delete process.env.SIGNET_AGENT_VALIDATE_DIR;
    }
  });

  it("reports an unloadable file, a bad flag and a plugin that cannot start, each with exit 1", async () => {
    const absent = join(dir, "absent.conf");
    expect(await cli(["validate", "-config", absent])).toEqual({
      code: 1,
      stdout: "",
      stderr: `SPIRE agent configuration file is invalid: could not find config file ${absent}: please use the -config flag\n`,
    });
    const badFlag = await cli(["validate", "-serverPort", "eighty"]);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr.startsWith('invalid value "eighty" for flag -serverPort: parse error\nUsage of validate:\n')).toBe(true);

    const conf = agentConf(`${disk(`directory = "${dir}"`)}\nNodeAttestor "join_token" {}\nWorkloadAttestor "gone" { plugin_cmd = "${join(dir, "gone")}" }`);
    const r = await cli(["validate", "-config", conf]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Could not validate configuration file: failed to load plugin WorkloadAttestor "gone": .*\n$/);
  });

  it("takes every spire-agent run flag, and the flags override the file as in run", async () => {
    const conf = agentConf(`${disk(`directory = "${dir}"`)}\nNodeAttestor "join_token" {}\n${unix("")}`);
    const both = await cli(["validate", "-config", conf, "-trustBundle", join(dir, "bundle.pem")]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/^SPIRE agent configuration file is invalid: .*only one of insecure_bootstrap, trust_bundle_url, or trust_bundle_path can be specified\n$/);
    const mode = await cli(["validate", "-config", conf, "-rebootstrapMode", "sometimes"]);
    expect(mode.code).toBe(1);
    expect(mode.stderr).toMatch(/^SPIRE agent configuration file is invalid: .*rebootstrap_mode.*sometimes/);
    const ok = await cli(["validate", "-config", conf, "-rebootstrapMode", "never", "-rebootstrapDelay", "5m", "-trustBundleFormat", "pem", "-insecureBootstrap", "-disableSDSAPI", "-logSourceLocation"]);
    expect(ok).toEqual({ code: 0, stdout: "SPIRE agent configuration file is valid.\n", stderr: "" });
  });

  it("answers --help with run's flags and exit 0", async () => {
    const r = await cli(["validate", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^Usage of validate:\n/);
    expect(r.stderr).toContain('\n  -config string\n    \tPath to a SPIRE config file (default "conf/agent/agent.conf")\n');
    for (const flag of ["-expandEnv\n", "-joinToken string", "-trustBundle string", "-serverAddress string", "-insecureBootstrap\n", "-rebootstrapMode string", "-rebootstrapDelay string", "-trustBundleFormat string"]) {
      expect(r.stderr).toContain(`\n  ${flag}`);
    }
  });
});

describe("Go toolchain for the stock plugin test", () => {
  it("is on PATH when CI=true (otherwise the stock plugin test is left out)", () => {
    requireGoInCI();
  });
});

describe.runIf(haveGo)("signet-agent validate with a stock SPIRE plugin (spire-plugin-sdk, no Validate)", () => {
  let stock = "";
  beforeAll(async () => {
    await goBuild("stock-plugin", ["./workloadattestor"]);
    stock = join(goBuildDir, "workloadattestor");
  }, goBuildTimeoutMs + 10_000);

  it("counts its Unimplemented Validate as valid, as SPIRE does, though Configure would refuse the data", async () => {
    // greeting is required by the plugin's Configure; its Validate is the SDK's Unimplemented stub.
    const data = { kind: "inline" as const, text: JSON.stringify({ greeting: "" }) };
    const log = createLogger({ write: () => {} });
    const verdicts = await Catalog.validate([{ type: "WorkloadAttestor", name: "stock", source: { kind: "cmd", path: stock }, args: [], data }], {
      side: "agent",
      trustDomain: "example.org",
      log,
      liveness: false,
    });
    expect(verdicts).toEqual([{ type: "WorkloadAttestor", name: "stock", valid: true, notes: [], answer: "unimplemented" }]);
    await expect(
      Catalog.load([{ type: "WorkloadAttestor", name: "stock", source: { kind: "cmd", path: stock }, args: [], data }], {
        side: "agent",
        trustDomain: "example.org",
        log,
        liveness: false,
      }),
    ).rejects.toThrow(/greeting is required/);

    const conf = agentConf(`${disk(`directory = "${dir}"`)}\nNodeAttestor "join_token" {}\nWorkloadAttestor "stock" {\n plugin_cmd = "${stock}"\n plugin_data { greeting = "" }\n}`);
    expect(await cli(["validate", "-config", conf])).toEqual({ code: 0, stdout: "SPIRE agent configuration file is valid.\n", stderr: "" });
  }, 60_000);
});
