import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtinPackageName } from "./plugin-types.js";
import { ResolveError, resolvePluginCommand } from "./resolve.js";

/** A throwaway project with node_modules holding the given packages. */
function project(packages: Record<string, object>): string {
  const dir = mkdtempSync(join(tmpdir(), "signet-resolve-"));
  for (const [name, pkg] of Object.entries(packages)) {
    const pkgDir = join(dir, "node_modules", name);
    mkdirSync(join(pkgDir, "dist"), { recursive: true });
    writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name, ...pkg }));
    writeFileSync(join(pkgDir, "dist", "plugin.mjs"), "");
  }
  return dir;
}

const ctx = (dir: string, over: object = {}) => ({ type: "KeyManager", name: "memory", side: "server" as const, args: ["-v"], searchFrom: [dir], ...over });

describe("resolvePluginCommand", () => {
  it("maps built-in names to Signet's packages", () => {
    expect(builtinPackageName("KeyManager", "disk")).toBe("@signet/plugin-keymanager-disk");
    expect(builtinPackageName("NodeAttestor", "aws_iid")).toBe("@signet/plugin-nodeattestor-aws-iid");
    expect(builtinPackageName("WorkloadAttestor", "unix")).toBe("@signet/plugin-workloadattestor-unix");
  });

  // Each packaged plugin is found from the block a SPIRE config names it with: `KeyManager "aws_kms"`
  // must reach plugins/keymanager-aws-kms. (Run after the build: the bins are in dist/.)
  const repo = join(__dirname, "../../../..");
  const packaged = readdirSync(join(repo, "plugins")).flatMap((dir) => {
    const pkg = JSON.parse(readFileSync(join(repo, "plugins", dir, "package.json"), "utf8")) as { name: string; signet: { type: string; sides: ("server" | "agent")[] } };
    const prefix = `${pkg.signet.type.toLowerCase()}-`;
    return dir.startsWith(prefix) ? [{ dir, pkg, spireName: dir.slice(prefix.length).replace(/-/g, "_") }] : [];
  });

  it.each(packaged.map((p) => [`${p.pkg.signet.type} "${p.spireName}"`, p] as const))("finds the packaged plugin for %s", (_, { dir, pkg, spireName }) => {
    expect(pkg.name).toBe(`@signet/plugin-${dir}`);
    for (const side of pkg.signet.sides) {
      const found = resolvePluginCommand({ kind: "builtin" }, { type: pkg.signet.type, name: spireName, side, args: [], searchFrom: [repo] });
      expect(found.file).toBe(join(repo, "node_modules", pkg.name, "dist", "plugin.mjs"));
    }
  });

  it("has every packaged plugin of issue 5 under its SPIRE name", () => {
    expect(packaged.map((p) => `${p.pkg.signet.type} ${p.spireName}`)).toEqual(
      expect.arrayContaining(["KeyManager aws_kms", "KeyManager gcp_kms", "NodeAttestor aws_iid", "NodeAttestor k8s_psat", "WorkloadAttestor docker"]),
    );
  });

  it("runs a plugin package's bin with this Node, and a built-in by its package", () => {
    const dir = project({
      "@acme/km": { bin: { km: "./dist/plugin.mjs" }, signet: { type: "KeyManager", sides: ["server"], apiVersion: 1 } },
      "@signet/plugin-keymanager-memory": { bin: "./dist/plugin.mjs", signet: { type: "KeyManager", sides: ["server", "agent"], apiVersion: 1 } },
    });
    expect(resolvePluginCommand({ kind: "package", packageName: "@acme/km" }, ctx(dir))).toEqual({
      file: join(dir, "node_modules", "@acme/km", "dist", "plugin.mjs"),
      node: true,
      args: ["-v"],
    });
    expect(resolvePluginCommand({ kind: "builtin" }, ctx(dir)).file).toBe(
      join(dir, "node_modules", "@signet/plugin-keymanager-memory", "dist", "plugin.mjs"),
    );
  });

  it("resolves plugin_cmd against the working directory, never PATH", () => {
    expect(resolvePluginCommand({ kind: "cmd", path: "bin/x" }, ctx("/")).file).toBe(join(process.cwd(), "bin/x"));
    expect(resolvePluginCommand({ kind: "cmd", path: "/opt/x" }, ctx("/"))).toEqual({ file: "/opt/x", node: false, args: ["-v"] });
  });

  it.each([
    [{ kind: "package" as const, packageName: "@acme/missing" }, {}, /plugin_package "@acme\/missing" is not installed/],
    [{ kind: "builtin" as const }, { name: "nope" }, /no built-in KeyManager plugin named "nope" \(package @signet\/plugin-keymanager-nope is not installed\)/],
    [{ kind: "package" as const, packageName: "left-pad" }, {}, /left-pad is not a Signet plugin: its package.json has no "signet"/],
    [{ kind: "package" as const, packageName: "@acme/wa" }, {}, /@acme\/wa is a WorkloadAttestor plugin, not a KeyManager plugin/],
    [{ kind: "package" as const, packageName: "@acme/agent-only" }, {}, /@acme\/agent-only runs only in the agent, not in the server/],
    [{ kind: "package" as const, packageName: "@acme/nobin" }, {}, /declares no "bin" entry/],
  ])("explains %j", (source, over, message) => {
    const dir = project({
      "left-pad": { bin: "./dist/plugin.mjs" },
      "@acme/wa": { bin: "./dist/plugin.mjs", signet: { type: "WorkloadAttestor", sides: ["agent"], apiVersion: 1 } },
      "@acme/agent-only": { bin: "./dist/plugin.mjs", signet: { type: "KeyManager", sides: ["agent"], apiVersion: 1 } },
      "@acme/nobin": { signet: { type: "KeyManager", sides: ["server"], apiVersion: 1 } },
    });
    expect(() => resolvePluginCommand(source, ctx(dir, over))).toThrow(ResolveError);
    expect(() => resolvePluginCommand(source, ctx(dir, over))).toThrow(message);
  });
});
