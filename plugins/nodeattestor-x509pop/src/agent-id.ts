/**
 * The agent's SPIFFE ID: spiffe://<trust domain>/spire/agent + the agent path template executed
 * over the leaf certificate (SPIRE's x509pop.MakeAgentID and idutil.AgentID). The template sees
 * the plugin's values (.PluginName, .Fingerprint, .SerialNumberHex, .TrustDomain,
 * .SVIDPathTrimmed, .URISanSelectors) and, as Go's embedded *x509.Certificate, .Subject.CommonName,
 * .Issuer.CommonName, .SerialNumber, .DNSNames and .Version.
 */
import { SpiffeId, SpiffeIdError, type TrustDomain } from "@signet/spiffe";
import { type Certificate, fingerprint, serialNumberHex } from "./certificate.js";
import { pluginName } from "./config.js";
import type { AgentPathTemplate, TemplateStruct } from "@signet/plugin-sdk";

export function makeAgentId(
  trustDomain: TrustDomain,
  template: AgentPathTemplate,
  leaf: Certificate,
  svidPathTrimmed: string,
  sanSelectors: ReadonlyMap<string, string>,
): SpiffeId {
  const path = template.execute(templateData(trustDomain, leaf, svidPathTrimmed, sanSelectors));
  try {
    SpiffeId.fromPath(trustDomain, path);
  } catch (e) {
    if (e instanceof SpiffeIdError) throw new Error(`invalid agent path suffix ${JSON.stringify(path)}: ${e.reason}`);
    throw e;
  }
  return SpiffeId.fromPath(trustDomain, `/spire/agent${path}`);
}

export function templateData(trustDomain: TrustDomain, leaf: Certificate, svidPathTrimmed: string, sanSelectors: ReadonlyMap<string, string>): TemplateStruct {
  const name = (cn: string): TemplateStruct => ({ kind: "struct", type: "pkix.Name", fields: { CommonName: cn } });
  return {
    kind: "struct",
    type: "x509pop.agentPathTemplateData",
    fields: {
      TrustDomain: trustDomain.name,
      PluginName: pluginName,
      SerialNumberHex: serialNumberHex(leaf.serialNumber),
      Fingerprint: fingerprint(leaf),
      SVIDPathTrimmed: svidPathTrimmed,
      URISanSelectors: { kind: "map", entries: sanSelectors },
      Subject: name(leaf.subjectCommonName),
      Issuer: name(leaf.issuerCommonName),
      SerialNumber: leaf.serialNumber,
      DNSNames: leaf.dnsNames,
      Version: leaf.version,
    },
  };
}
