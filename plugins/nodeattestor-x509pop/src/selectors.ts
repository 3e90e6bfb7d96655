/**
 * What x509pop says about an attested agent: its selectors (type "x509pop") and the URI SAN
 * selectors the agent path template can use. SPIRE's values:
 *
 *   subject:cn:<leaf common name>          when the leaf has one
 *   ca:fingerprint:<sha1 hex>              every certificate above the leaf in every verified chain, once
 *   serialnumber:<lowercase hex, even>     the leaf's serial number
 *   san:<key>:<value>                      each URI SAN x509pop://<trust domain>/<key>/<value>
 */
import { type Certificate, fingerprint, serialNumberHex } from "./certificate.js";
import { parseUri } from "./uri.js";

export function buildSelectorValues(leaf: Certificate, chains: readonly (readonly Certificate[])[], sanSelectors: ReadonlyMap<string, string>): string[] {
  const values: string[] = [];
  if (leaf.subjectCommonName !== "") values.push(`subject:cn:${leaf.subjectCommonName}`);
  const seen = new Set<string>();
  for (const chain of chains) {
    for (const cert of chain.slice(1)) {
      const fp = fingerprint(cert);
      if (seen.has(fp)) continue;
      seen.add(fp);
      values.push(`ca:fingerprint:${fp}`);
    }
  }
  values.push(`serialnumber:${serialNumberHex(leaf.serialNumber)}`);
  // SPIRE walks a Go map here (random order); sorted keys give the same set, always in one order.
  for (const key of [...sanSelectors.keys()].sort()) values.push(`san:${key}:${sanSelectors.get(key)!}`);
  return values;
}

/**
 * URI SANs of the form x509pop://<trust domain>/<key>/<value>, as key → value (a later SAN with
 * the same key wins). `warn` hears about x509pop URIs with no value segment.
 */
export function uriSanSelectors(leaf: Certificate, trustDomain: string, warn: (uri: string) => void): Map<string, string> {
  const out = new Map<string, string>();
  const prefix = `x509pop://${trustDomain}/`;
  for (const raw of leaf.uris) {
    const uri = parseUri(raw);
    if (!uri || !uri.string.startsWith(prefix)) continue;
    const trimmed = uri.path.replace(/^\/+|\/+$/g, "");
    const slash = trimmed.indexOf("/");
    if (slash < 0) {
      warn(uri.string);
      continue;
    }
    out.set(trimmed.slice(0, slash), trimmed.slice(slash + 1));
  }
  return out;
}
