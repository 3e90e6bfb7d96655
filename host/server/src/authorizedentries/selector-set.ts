import type { Selector } from "@signet/proto/spire/api/types/selector";

/**
 * Selectors as the index compares them: each as one key string,
 * `<type length>:<type>:<value>`, which no two different (type, value)
 * pairs share.
 */
export function selectorKey(s: Selector): string {
  return `${s.type.length}:${s.type}:${s.value}`;
}

/**
 * An agent's node selectors, packed in one string (each key prefixed by its
 * length as a base-36 number and a space): 10k agents then cost a string
 * each instead of an array of selector objects. Duplicates are dropped, as
 * SPIRE treats selectors as a set.
 */
export function packSelectors(list: readonly Selector[]): string {
  const keys = [...new Set(list.map(selectorKey))];
  return keys.map((k) => `${k.length.toString(36)} ${k}`).join("");
}

/** The keys of a packed selector set. */
export function unpackSelectors(packed: string): Set<string> {
  const keys = new Set<string>();
  let i = 0;
  while (i < packed.length) {
    const space = packed.indexOf(" ", i);
    const len = Number.parseInt(packed.slice(i, space), 36);
    keys.add(packed.slice(space + 1, space + 1 + len));
    i = space + 1 + len;
  }
  return keys;
}
