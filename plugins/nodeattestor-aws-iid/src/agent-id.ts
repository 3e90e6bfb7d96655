/**
 * The agent's SPIFFE ID: spiffe://<trust domain>/spire/agent + the agent path template executed
 * over the document and the instance's tags (SPIRE's awsiid.makeAgentID and idutil.AgentID).
 * Default template: /{{ .PluginName}}/{{ .AccountID }}/{{ .Region }}/{{ .InstanceID }}.
 */
import { SpiffeId, SpiffeIdError, type TrustDomain } from "@signet/spiffe";
import { pluginName } from "./config.js";
import type { InstanceIdentityDocument } from "./document.js";
import type { AgentPathTemplate, TemplateStruct } from "@signet/plugin-sdk";

export function makeAgentId(trustDomain: TrustDomain, template: AgentPathTemplate, doc: InstanceIdentityDocument, tags: ReadonlyMap<string, string>): SpiffeId {
  const path = template.execute(templateData(doc, tags));
  try {
    SpiffeId.fromPath(trustDomain, path);
  } catch (e) {
    if (e instanceof SpiffeIdError) throw new Error(`invalid agent path suffix ${JSON.stringify(path)}: ${e.reason}`);
    throw e;
  }
  return SpiffeId.fromPath(trustDomain, `/spire/agent${path}`);
}

export function templateData(doc: InstanceIdentityDocument, tags: ReadonlyMap<string, string>): TemplateStruct {
  return {
    kind: "struct",
    type: "awsiid.agentPathTemplateData",
    fields: {
      InstanceID: doc.instanceId,
      AccountID: doc.accountId,
      Region: doc.region,
      PluginName: pluginName,
      // SPIRE declares it but never sets it: always empty.
      TrustDomain: "",
      Tags: { kind: "map", entries: tags },
    },
  };
}
