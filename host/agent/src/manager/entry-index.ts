/**
 * Which registration entries a workload's selectors match: an entry matches
 * when all of its selectors are among the workload's (a subset test, as
 * SPIRE's cache does). Entries are indexed by one of their selectors so a
 * lookup touches only candidates.
 */
import type { Entry } from "@signet/proto/spire/api/types/entry";

export function selectorKey(s: { type: string; value: string }): string {
  return `${s.type}:${s.value}`;
}

export class EntryIndex {
  private readonly byKey = new Map<string, Set<string>>();

  constructor(private readonly entries: ReadonlyMap<string, Entry>) {
    for (const e of entries.values()) this.add(e);
  }

  /** Ids of the entries whose selectors are all in `selectors`, sorted. */
  match(selectors: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const s of selectors) {
      const ids = this.byKey.get(s);
      if (!ids) continue;
      for (const id of ids) {
        const e = this.entries.get(id);
        if (e && e.selectors.every((x) => selectors.has(selectorKey(x)))) out.push(id);
      }
    }
    return out.sort();
  }

  private add(e: Entry): void {
    const first = e.selectors[0];
    if (!first) return;
    const key = selectorKey(first);
    let ids = this.byKey.get(key);
    if (!ids) this.byKey.set(key, (ids = new Set()));
    ids.add(e.id);
  }
}
