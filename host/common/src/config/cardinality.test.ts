import { ConfigError } from "@signet/config";
import { describe, expect, it } from "vitest";
import { checkPluginCardinality } from "./cardinality.js";
import type { PluginDeclaration } from "./plugins.js";

function plugin(type: string, name: string, extra: Partial<PluginDeclaration> = {}): PluginDeclaration {
  return { type, name, source: { kind: "builtin" }, args: [], data: { kind: "none" }, enabled: true, ...extra };
}

const server = [plugin("DataStore", "sql"), plugin("KeyManager", "disk"), plugin("NodeAttestor", "join_token")];
const agent = [plugin("NodeAttestor", "join_token"), plugin("KeyManager", "disk"), plugin("WorkloadAttestor", "unix")];

function cardinalityError(decls: PluginDeclaration[], side: "server" | "agent"): string {
  try {
    checkPluginCardinality(decls, side);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("no error thrown");
}

describe("checkPluginCardinality", () => {
  it("accepts the minimal server and agent sets, and optional types in any number", () => {
    expect(() => checkPluginCardinality(server, "server")).not.toThrow();
    expect(() => checkPluginCardinality([...server, plugin("UpstreamAuthority", "disk"), plugin("Notifier", "a"), plugin("Notifier", "b")], "server")).not.toThrow();
    expect(() => checkPluginCardinality(agent, "agent")).not.toThrow();
    expect(() => checkPluginCardinality([...agent, plugin("WorkloadAttestor", "k8s"), plugin("SVIDStore", "x")], "agent")).not.toThrow();
  });

  it("server: exactly one KeyManager and DataStore, at most one UpstreamAuthority (SPIRE's messages)", () => {
    expect(cardinalityError(server.filter((d) => d.type !== "KeyManager"), "server")).toBe(
      'plugin type "KeyManager" constraint not satisfied: expected exactly 1 but got 0',
    );
    expect(cardinalityError([...server, plugin("DataStore", "other")], "server")).toBe(
      'plugin type "DataStore" constraint not satisfied: expected exactly 1 but got 2',
    );
    expect(cardinalityError([...server, plugin("UpstreamAuthority", "a"), plugin("UpstreamAuthority", "b")], "server")).toBe(
      'plugin type "UpstreamAuthority" constraint not satisfied: expected at most 1 but got 2',
    );
  });

  it("agent: exactly one KeyManager and NodeAttestor, at least one WorkloadAttestor", () => {
    expect(cardinalityError([...agent, plugin("NodeAttestor", "x509pop")], "agent")).toBe(
      'plugin type "NodeAttestor" constraint not satisfied: expected exactly 1 but got 2',
    );
    expect(cardinalityError(agent.filter((d) => d.type !== "WorkloadAttestor"), "agent")).toBe(
      'plugin type "WorkloadAttestor" constraint not satisfied: expected at least 1 but got 0',
    );
  });

  it("names every unmet constraint at once", () => {
    expect(cardinalityError([], "agent")).toBe(
      'plugin type "KeyManager" constraint not satisfied: expected exactly 1 but got 0; ' +
        'plugin type "NodeAttestor" constraint not satisfied: expected exactly 1 but got 0; ' +
        'plugin type "WorkloadAttestor" constraint not satisfied: expected at least 1 but got 0',
    );
  });

  it("does not count disabled declarations", () => {
    expect(cardinalityError([...server, plugin("KeyManager", "memory", { enabled: false }), plugin("DataStore", "x", { enabled: false })].filter((d) => d.name !== "disk"), "server")).toBe(
      'plugin type "KeyManager" constraint not satisfied: expected exactly 1 but got 0',
    );
  });

  it("refuses an external join_token NodeAttestor, on either side", () => {
    const message = "the built-in join_token node attestor cannot be overridden by an external plugin";
    const viaCmd = plugin("NodeAttestor", "join_token", { source: { kind: "cmd", path: "/opt/jt" } });
    const viaPackage = plugin("NodeAttestor", "join_token", { source: { kind: "package", packageName: "jt" } });
    expect(cardinalityError([...server.filter((d) => d.name !== "join_token"), viaCmd], "server")).toBe(message);
    expect(cardinalityError([...agent.filter((d) => d.name !== "join_token"), viaPackage], "agent")).toBe(message);
    const disabledExternal = { ...viaCmd, enabled: false };
    expect(() => checkPluginCardinality([...server, disabledExternal], "server")).not.toThrow();
  });
});
