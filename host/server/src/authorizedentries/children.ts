import type { StoredEntry } from "./stored-entry.js";

/** Up to this many children are kept in an array; beyond, in a Map (fast removal). */
const arrayLimit = 16;

/**
 * The entries parented by one path, in insertion order. Most parents (agents,
 * workloads that parent a few others) have a handful of children, for which
 * a small array costs a fraction of a Map; a parent with many children (a
 * node alias, a busy agent) switches to a Map so removals stay O(1).
 */
export type Children = StoredEntry[] | Map<string, StoredEntry>;

export function addChild(children: Children | undefined, entry: StoredEntry): Children {
  if (children === undefined) return [entry];
  if (children instanceof Map) return children.set(entry.id, entry);
  if (children.length < arrayLimit) {
    children.push(entry);
    return children;
  }
  const map = new Map(children.map((c) => [c.id, c] as const));
  return map.set(entry.id, entry);
}

/** Removes the child; returns false when nothing is left. */
export function removeChild(children: Children, entry: StoredEntry): boolean {
  if (children instanceof Map) {
    children.delete(entry.id);
    return children.size > 0;
  }
  const i = children.indexOf(entry);
  if (i >= 0) children.splice(i, 1);
  return children.length > 0;
}


export function childrenOf(children: Children): Iterator<StoredEntry> {
  return children.values();
}
