import type { Selector } from "@signet/proto/spire/api/types/selector";

/** Selectors without repeats, ordered by type then value (SPIRE's selector.Dedupe). */
export function dedupeSelectors(selectors: readonly Selector[]): Selector[] {
  const seen = new Map<string, Selector>();
  for (const s of selectors) seen.set(`${s.type}\u0000${s.value}`, { type: s.type, value: s.value });
  return [...seen.values()].sort((a, b) => compare(a.type, b.type) || compare(a.value, b.value));
}

/** Byte order, as Go compares strings. */
function compare(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
