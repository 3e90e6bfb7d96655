/** Which side of SPIRE/Signet a plugin runs on. */
export type Side = "server" | "agent";

/**
 * Plugin types each host loads, with the gRPC service a plugin of that type
 * must serve (what Init must answer). DataStore is Signet's own type: SPIRE
 * made its datastore internal.
 */
export const pluginTypes: Readonly<Record<Side, Readonly<Record<string, string>>>> = {
  server: {
    DataStore: "signet.plugin.server.datastore.v1.DataStore",
    KeyManager: "spire.plugin.server.keymanager.v1.KeyManager",
    NodeAttestor: "spire.plugin.server.nodeattestor.v1.NodeAttestor",
    UpstreamAuthority: "spire.plugin.server.upstreamauthority.v1.UpstreamAuthority",
    Notifier: "spire.plugin.server.notifier.v1.Notifier",
    CredentialComposer: "spire.plugin.server.credentialcomposer.v1.CredentialComposer",
    BundlePublisher: "spire.plugin.server.bundlepublisher.v1.BundlePublisher",
  },
  agent: {
    KeyManager: "spire.plugin.agent.keymanager.v1.KeyManager",
    NodeAttestor: "spire.plugin.agent.nodeattestor.v1.NodeAttestor",
    WorkloadAttestor: "spire.plugin.agent.workloadattestor.v1.WorkloadAttestor",
    SVIDStore: "spire.plugin.agent.svidstore.v1.SVIDStore",
  },
};

/**
 * Signet's own extension services a plugin of a type may serve beside SPIRE's
 * (listed in its Init answer; a host uses them if present, SPIRE ignores them).
 */
export const extensionServices: Readonly<Record<string, readonly string[]>> = {
  KeyManager: ["signet.plugin.keymanager.v1.BatchSigner"],
};

export function serviceForType(side: Side, type: string): string | undefined {
  return pluginTypes[side][type];
}

/** The same type's service on the other side: a plugin may serve both halves from one program. */
export function otherSideService(side: Side, type: string): string | undefined {
  return pluginTypes[side === "server" ? "agent" : "server"][type];
}

/**
 * The npm package that holds Signet's packaged plugin for a built-in name:
 * `KeyManager "disk"` → `@signet/plugin-keymanager-disk`,
 * `NodeAttestor "aws_iid"` → `@signet/plugin-nodeattestor-aws-iid`.
 */
export function builtinPackageName(type: string, name: string): string {
  return `@signet/plugin-${type.toLowerCase()}-${name.toLowerCase().replace(/_/g, "-")}`;
}
