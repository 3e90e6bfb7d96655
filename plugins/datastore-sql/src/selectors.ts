/**
 * Selector sets, stored one row per selector (entry_selectors,
 * node_selectors), and the set relations the filters ask for, written as SQL
 * that every engine runs the same way:
 *
 *   ANY       the object has at least one of the given selectors;
 *   SUPERSET  it has every given selector;
 *   SUBSET    it has at least one, and none outside the given set;
 *   EXACT     SUPERSET and SUBSET.
 *
 * The same builder serves federates_with (one value per row).
 */
import type { Knex } from "knex";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { SelectorMatch_MatchBehavior as Match } from "@signet/proto/spire/api/types/selector";
import { invalid } from "./errors.js";

export { Match };

/** Distinct selectors in first-seen order, each with a type and a value. */
export function normalizeSelectors(selectors: readonly Selector[], what: string): Selector[] {
  const seen = new Set<string>();
  const out: Selector[] = [];
  for (const s of selectors) {
    if (s.type === "") throw invalid(`invalid ${what}: missing selector type`);
    if (s.value === "") throw invalid(`invalid ${what}: missing selector value`);
    if (s.type.includes(":")) throw invalid(`invalid ${what}: selector type ${JSON.stringify(s.type)} contains ":"`);
    const k = selectorKey(s);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ type: s.type, value: s.value });
  }
  return out;
}

export function selectorKey(s: Selector): string {
  return `${s.type}:${s.value}`;
}

/** Adds the set relation between the owner's rows and `items` to `q`. */
export function whereSetMatches<T>(
  q: Knex.QueryBuilder,
  set: { table: string; owner: string; outerKey: string; columns: (item: T) => Record<string, string> },
  items: readonly T[],
  behavior: Match,
): void {
  const alias = `${set.table}_m`;
  const anyOf = (b: Knex.QueryBuilder, prefix: string) =>
    b.where((w) => {
      for (const item of items) {
        const cols = set.columns(item);
        w.orWhere(Object.fromEntries(Object.entries(cols).map(([k, v]) => [`${prefix}.${k}`, v])));
      }
    });
  const hasAny = () =>
    q.whereIn(set.outerKey, (sub) => {
      void anyOf(sub.select(`${set.table}.${set.owner}`).from(set.table), set.table);
    });
  const hasAll = () =>
    q.whereIn(set.outerKey, (sub) => {
      void anyOf(sub.select(`${set.table}.${set.owner}`).from(set.table), set.table)
        .groupBy(`${set.table}.${set.owner}`)
        .havingRaw("COUNT(*) = ?", [items.length]);
    });
  const noneOutside = () =>
    q.whereNotExists((sub) => {
      void sub
        .select(sub.client.raw("1"))
        .from(`${set.table} as ${alias}`)
        .whereRaw("?? = ??", [`${alias}.${set.owner}`, set.outerKey])
        .whereNot((w) => {
          for (const item of items) {
            const cols = set.columns(item);
            w.orWhere(Object.fromEntries(Object.entries(cols).map(([k, v]) => [`${alias}.${k}`, v])));
          }
        });
    });
  switch (behavior) {
    case Match.MATCH_ANY:
      hasAny();
      return;
    case Match.MATCH_SUPERSET:
      hasAll();
      return;
    case Match.MATCH_SUBSET:
      hasAny();
      noneOutside();
      return;
    case Match.MATCH_EXACT:
      hasAll();
      noneOutside();
      return;
    default:
      throw invalid(`unknown match behavior ${behavior as number}`);
  }
}

/** Checks a filter's behaviour value before it reaches SQL. */
export function checkMatchBehavior(behavior: number, what: string): Match {
  if (behavior === Match.MATCH_EXACT || behavior === Match.MATCH_SUBSET || behavior === Match.MATCH_SUPERSET || behavior === Match.MATCH_ANY) {
    return behavior;
  }
  throw invalid(`${what}: unknown match behavior ${behavior}`);
}
