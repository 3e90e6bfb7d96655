import type { Entry, EntryMask } from "@signet/proto/spire/api/types/entry";

/**
 * The output mask: an absent mask returns the entry whole; a present one
 * keeps the id and only the fields it flags (the others get their zero
 * value, as SPIRE's applyMask leaves them).
 */
export function applyEntryMask(entry: Entry, mask: EntryMask | undefined): Entry {
  if (!mask) return entry;
  const out: Entry = {
    id: entry.id,
    spiffeId: mask.spiffeId ? entry.spiffeId : undefined,
    parentId: mask.parentId ? entry.parentId : undefined,
    selectors: mask.selectors ? entry.selectors : [],
    x509SvidTtl: mask.x509SvidTtl ? entry.x509SvidTtl : 0,
    federatesWith: mask.federatesWith ? entry.federatesWith : [],
    admin: mask.admin ? entry.admin : false,
    downstream: mask.downstream ? entry.downstream : false,
    expiresAt: mask.expiresAt ? entry.expiresAt : 0n,
    dnsNames: mask.dnsNames ? entry.dnsNames : [],
    revisionNumber: mask.revisionNumber ? entry.revisionNumber : 0n,
    storeSvid: mask.storeSvid ? entry.storeSvid : false,
    jwtSvidTtl: mask.jwtSvidTtl ? entry.jwtSvidTtl : 0,
    hint: mask.hint ? entry.hint : "",
    createdAt: mask.createdAt ? entry.createdAt : 0n,
  };
  if (mask.additionalAttributes && entry.additionalAttributes) out.additionalAttributes = entry.additionalAttributes;
  return out;
}
