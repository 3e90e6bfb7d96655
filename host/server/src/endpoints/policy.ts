/**
 * SPIRE's default authorization policy (pkg/server/authpolicy/policy_data.json):
 * which caller classes may call each server API method. A method missing from
 * the table is denied to everyone.
 */
export interface MethodPolicy {
  /** Anyone, authenticated or not. */
  readonly any?: boolean;
  /** Callers on the local Unix socket. */
  readonly local?: boolean;
  /** TCP callers with an admin SVID (admin_ids or an admin entry). */
  readonly admin?: boolean;
  /** TCP callers with a downstream entry. */
  readonly downstream?: boolean;
  /** Attested agents over TCP. */
  readonly agent?: boolean;
}

const adminOrLocal: MethodPolicy = { admin: true, local: true };
const localOnly: MethodPolicy = { local: true };
const agentOnly: MethodPolicy = { agent: true };
const downstreamOnly: MethodPolicy = { downstream: true };
const anyone: MethodPolicy = { any: true };

const table: Record<string, MethodPolicy> = {
  "/spire.api.server.svid.v1.SVID/MintX509SVID": adminOrLocal,
  "/spire.api.server.svid.v1.SVID/MintJWTSVID": adminOrLocal,
  "/spire.api.server.svid.v1.SVID/MintWITSVID": adminOrLocal,
  "/spire.api.server.svid.v1.SVID/BatchNewX509SVID": agentOnly,
  "/spire.api.server.svid.v1.SVID/NewJWTSVID": agentOnly,
  "/spire.api.server.svid.v1.SVID/BatchNewWITSVID": agentOnly,
  "/spire.api.server.svid.v1.SVID/NewDownstreamX509CA": downstreamOnly,
  "/spire.api.server.bundle.v1.Bundle/GetBundle": anyone,
  "/spire.api.server.bundle.v1.Bundle/AppendBundle": adminOrLocal,
  "/spire.api.server.bundle.v1.Bundle/PublishJWTAuthority": downstreamOnly,
  "/spire.api.server.bundle.v1.Bundle/PublishWITAuthority": downstreamOnly,
  "/spire.api.server.bundle.v1.Bundle/CountBundles": adminOrLocal,
  "/spire.api.server.bundle.v1.Bundle/ListFederatedBundles": adminOrLocal,
  "/spire.api.server.bundle.v1.Bundle/GetFederatedBundle": { admin: true, local: true, agent: true },
  "/spire.api.server.bundle.v1.Bundle/BatchCreateFederatedBundle": adminOrLocal,
  "/spire.api.server.bundle.v1.Bundle/BatchUpdateFederatedBundle": adminOrLocal,
  "/spire.api.server.bundle.v1.Bundle/BatchSetFederatedBundle": adminOrLocal,
  "/spire.api.server.bundle.v1.Bundle/BatchDeleteFederatedBundle": adminOrLocal,
  "/spire.api.server.debug.v1.Debug/GetInfo": localOnly,
  "/spire.api.server.entry.v1.Entry/CountEntries": adminOrLocal,
  "/spire.api.server.entry.v1.Entry/ListEntries": adminOrLocal,
  "/spire.api.server.entry.v1.Entry/GetEntry": adminOrLocal,
  "/spire.api.server.entry.v1.Entry/BatchCreateEntry": adminOrLocal,
  "/spire.api.server.entry.v1.Entry/BatchUpdateEntry": adminOrLocal,
  "/spire.api.server.entry.v1.Entry/BatchDeleteEntry": adminOrLocal,
  "/spire.api.server.entry.v1.Entry/GetAuthorizedEntries": agentOnly,
  "/spire.api.server.entry.v1.Entry/SyncAuthorizedEntries": agentOnly,
  "/spire.api.server.logger.v1.Logger/GetLogger": localOnly,
  "/spire.api.server.logger.v1.Logger/SetLogLevel": localOnly,
  "/spire.api.server.logger.v1.Logger/ResetLogLevel": localOnly,
  "/spire.api.server.agent.v1.Agent/CountAgents": adminOrLocal,
  "/spire.api.server.agent.v1.Agent/ListAgents": adminOrLocal,
  "/spire.api.server.agent.v1.Agent/GetAgent": adminOrLocal,
  "/spire.api.server.agent.v1.Agent/DeleteAgent": adminOrLocal,
  "/spire.api.server.agent.v1.Agent/BanAgent": adminOrLocal,
  "/spire.api.server.agent.v1.Agent/AttestAgent": anyone,
  "/spire.api.server.agent.v1.Agent/RenewAgent": agentOnly,
  "/spire.api.server.agent.v1.Agent/PostStatus": agentOnly,
  "/spire.api.server.agent.v1.Agent/CreateJoinToken": adminOrLocal,
  "/grpc.health.v1.Health/Check": localOnly,
  "/grpc.health.v1.Health/List": localOnly,
  "/grpc.health.v1.Health/Watch": localOnly,
  "/spire.api.server.trustdomain.v1.TrustDomain/ListFederationRelationships": adminOrLocal,
  "/spire.api.server.trustdomain.v1.TrustDomain/GetFederationRelationship": adminOrLocal,
  "/spire.api.server.trustdomain.v1.TrustDomain/BatchCreateFederationRelationship": adminOrLocal,
  "/spire.api.server.trustdomain.v1.TrustDomain/BatchUpdateFederationRelationship": adminOrLocal,
  "/spire.api.server.trustdomain.v1.TrustDomain/BatchDeleteFederationRelationship": adminOrLocal,
  "/spire.api.server.trustdomain.v1.TrustDomain/RefreshBundle": adminOrLocal,
};

for (const kind of ["JWT", "X509", "WIT"]) {
  for (const verb of ["Get", "Prepare", "Activate", "Taint", "Revoke"]) {
    const name = verb === "Get" ? `GetJWTAuthorityState`.replace("JWT", kind) : `${verb}${kind}Authority`;
    table[`/spire.api.server.localauthority.v1.LocalAuthority/${name}`] = adminOrLocal;
  }
}
table["/spire.api.server.localauthority.v1.LocalAuthority/TaintX509UpstreamAuthority"] = adminOrLocal;
table["/spire.api.server.localauthority.v1.LocalAuthority/RevokeX509UpstreamAuthority"] = adminOrLocal;

const denied: MethodPolicy = Object.freeze({});

/** The policy of a full method path ("/pkg.Service/Method"); unknown methods allow nobody. */
export function policyFor(fullMethod: string): MethodPolicy {
  return Object.hasOwn(table, fullMethod) ? table[fullMethod]! : denied;
}

/** Every method the policy names (for tests and start-up checks). */
export function policyMethods(): readonly string[] {
  return Object.keys(table);
}
