/** spire-agent's text for X509-SVIDs (cmd/spire-agent/cli/api printer.go). */
import type { X509Certificate } from "node:crypto";
import { formatGoDuration, goUtcString } from "@signet/host-common";
import { readCertificate } from "@signet/spiffe";
import type { X509Svid } from "./x509-svids.js";

/** "Received N svid(s) after <duration>", then each SVID with its CAs, then a blank line. */
export function formatX509SvidResponse(svids: readonly X509Svid[], respTimeNanos: bigint): string {
  let out = `Received ${svids.length} svid${svids.length === 1 ? "" : "s"} after ${formatGoDuration(respTimeNanos)}\n`;
  for (const svid of svids) {
    out += "\n";
    out += formatX509Svid(svid);
    for (const [trustDomain, bundle] of svid.federatedBundles) {
      bundle.forEach((ca, i) => {
        const { notBefore, notAfter } = validity(ca);
        out += `[${trustDomain}] CA #${i + 1} Valid After:\t${notBefore}\n`;
        out += `[${trustDomain}] CA #${i + 1} Valid Until:\t${notAfter}\n`;
      });
    }
  }
  return `${out}\n`;
}

function formatX509Svid(svid: X509Svid): string {
  let out = `SPIFFE ID:\t\t${svid.spiffeId}\n`;
  if (svid.hint !== "") out += `Hint:\t\t\t${svid.hint}\n`;
  const leaf = validity(svid.certificates[0]!);
  out += `SVID Valid After:\t${leaf.notBefore}\n`;
  out += `SVID Valid Until:\t${leaf.notAfter}\n`;
  svid.certificates.slice(1).forEach((c, i) => {
    const { notBefore, notAfter } = validity(c);
    out += `Intermediate #${i + 1} Valid After:\t${notBefore}\n`;
    out += `Intermediate #${i + 1} Valid Until:\t${notAfter}\n`;
  });
  svid.bundle.forEach((c, i) => {
    const { notBefore, notAfter } = validity(c);
    out += `CA #${i + 1} Valid After:\t${notBefore}\n`;
    out += `CA #${i + 1} Valid Until:\t${notAfter}\n`;
  });
  return out;
}

/** Go's time.Time %v of a parsed certificate's validity (UTC): "2006-01-02 15:04:05 +0000 UTC". */
function validity(cert: X509Certificate): { notBefore: string; notAfter: string } {
  const { notBefore, notAfter } = readCertificate(cert.raw);
  return { notBefore: goUtcString(Math.floor(notBefore.getTime() / 1000)), notAfter: goUtcString(Math.floor(notAfter.getTime() / 1000)) };
}
