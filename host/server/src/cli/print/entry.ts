/** spire-server's text for registration entries (cmd/spire-server/cli/entry printEntry). */
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import { goUtcString } from "@signet/host-common";

export function idString(id: SPIFFEID | undefined): string {
  return id ? `spiffe://${id.trustDomain}${id.path}` : "";
}

export function formatEntry(e: Entry): string {
  const lines: string[] = [];
  const add = (label: string, value: string | number | bigint | boolean) => lines.push(`${label.padEnd(24)}: ${value}`);
  add("Entry ID", e.id === "" ? "(none)" : e.id);
  add("SPIFFE ID", idString(e.spiffeId));
  add("Parent ID", idString(e.parentId));
  add("Revision", e.revisionNumber);
  if (e.downstream) add("Downstream", true);
  add("X509-SVID TTL", e.x509SvidTtl === 0 ? "default" : e.x509SvidTtl);
  add("JWT-SVID TTL", e.jwtSvidTtl === 0 ? "default" : e.jwtSvidTtl);
  if (e.expiresAt !== 0n) add("Expiration time", goUtcString(e.expiresAt));
  for (const s of e.selectors) add("Selector", `${s.type}:${s.value}`);
  for (const td of e.federatesWith) add("FederatesWith", td);
  for (const dns of e.dnsNames) add("DNS name", dns);
  if (e.admin) add("Admin", true);
  if (e.storeSvid) add("StoreSvid", true);
  if (e.hint !== "") add("Hint", e.hint);
  if (e.additionalAttributes?.disableX509SvidPrefetch) add("DisableX509SvidPrefetch", true);
  if (e.additionalAttributes?.jwtSvidIncludeJti) add("JwtSvidIncludeJti", true);
  return `${lines.join("\n")}\n\n`;
}

/** `entry show`: "Found N entries" then each entry. */
export function formatEntryList(entries: readonly Entry[]): string {
  return `Found ${entries.length} ${entries.length === 1 ? "entry" : "entries"}\n${entries.map(formatEntry).join("")}`;
}

/** SPIRE's util.SortTypesEntries: selectors sorted inside each entry, then entries by IDs, TTLs, selectors. */
export function sortEntries(entries: Entry[]): void {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const selCmp = (a: { type: string; value: string }, b: { type: string; value: string }) => cmp(a.type, b.type) || cmp(a.value, b.value);
  for (const e of entries) e.selectors.sort(selCmp);
  entries.sort((a, b) => {
    const c =
      cmp(a.spiffeId?.trustDomain ?? "", b.spiffeId?.trustDomain ?? "") ||
      cmp(a.spiffeId?.path ?? "", b.spiffeId?.path ?? "") ||
      cmp(a.parentId?.trustDomain ?? "", b.parentId?.trustDomain ?? "") ||
      cmp(a.parentId?.path ?? "", b.parentId?.path ?? "") ||
      a.x509SvidTtl - b.x509SvidTtl ||
      a.jwtSvidTtl - b.jwtSvidTtl ||
      a.selectors.length - b.selectors.length;
    if (c !== 0) return c;
    for (let i = 0; i < a.selectors.length; i++) {
      const s = selCmp(a.selectors[i]!, b.selectors[i]!);
      if (s !== 0) return s;
    }
    return 0;
  });
}
