/**
 * A small real AuthorizedEntries for API tests: entries held in memory,
 * authorized by SPIRE's crawl (entries parented by the agent, then by those
 * entries' SPIFFE IDs, recursively, plus node aliases whose selectors are all
 * among the agent's node selectors). As SPIRE's cache, it never hands out a
 * node alias itself. Unlike it, entries whose SPIFFE ID is outside the trust
 * domain are kept, so tests can reach handlers' checks for such entries.
 */
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import type { AuthorizedEntries } from "../../host/server/src/authorizedentries/authorized-entries.js";
import { type EncodedEntry, encodeEntry } from "../../host/server/src/authorizedentries/encoded-entry.js";

export class InMemoryAuthorizedEntries implements AuthorizedEntries {
  private entries: Entry[] = [];
  private readonly nodeSelectors = new Map<string, readonly Selector[]>();
  private readonly serverId: string;

  private readonly tdId: string;

  constructor(trustDomain: string) {
    this.tdId = `spiffe://${trustDomain}`;
    this.serverId = `spiffe://${trustDomain}/spire/server`;
  }

  setEntries(entries: readonly Entry[]): void {
    this.entries = [...entries];
  }

  setNodeSelectors(agentId: string, selectors: readonly Selector[]): void {
    this.nodeSelectors.set(agentId, selectors);
  }

  authorizedEntries(agentId: string): readonly EncodedEntry[] {
    return this.authorizedRecords(agentId).map(encodeEntry);
  }

  private authorizedRecords(agentId: string): Entry[] {
    const out: Entry[] = [];
    // Agents are always members of the server's trust domain; anything else is authorized nothing.
    if (agentId !== this.tdId && !agentId.startsWith(`${this.tdId}/`)) return out;
    const seen = new Set<string>();
    const visitedParents = new Set<string>();
    const crawl = (parent: string) => {
      if (visitedParents.has(parent)) return;
      visitedParents.add(parent);
      for (const e of this.entries) {
        if (idString(e.parentId) !== parent || parent === this.serverId || seen.has(e.id)) continue;
        seen.add(e.id);
        out.push(e);
        crawl(idString(e.spiffeId));
      }
    };
    crawl(agentId);
    // Selectors compared as (type, value) pairs: "a:b"+"c" is not "a"+"b:c".
    const key = (s: Selector) => JSON.stringify([s.type, s.value]);
    const mine = new Set((this.nodeSelectors.get(agentId) ?? []).map(key));
    for (const alias of this.entries) {
      if (idString(alias.parentId) !== this.serverId) continue;
      if (alias.selectors.length === 0 || !alias.selectors.every((s) => mine.has(key(s)))) continue;
      crawl(idString(alias.spiffeId));
    }
    return out;
  }

  authorizedEntry(agentId: string, entryId: string): Entry | undefined {
    return this.authorizedRecords(agentId).find((e) => e.id === entryId);
  }

  isAdmin(spiffeId: string): boolean {
    return this.entries.some((e) => e.admin && idString(e.spiffeId) === spiffeId);
  }

  isDownstream(spiffeId: string): boolean {
    return this.entries.some((e) => e.downstream && idString(e.spiffeId) === spiffeId);
  }
}

function idString(id: SPIFFEID | undefined): string {
  return id ? `spiffe://${id.trustDomain}${id.path}` : "";
}
