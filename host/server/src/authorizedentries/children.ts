/** Up to this many children are kept in an array; beyond, in a Set (fast removal). */
const arrayLimit = 16;

/**
 * The entries (cache slots) parented by one path, in insertion order. Most
 * parents have one child (a workload that parents another), kept as the bare
 * slot number; a handful go in an exact-size array, copied on change (a
 * pushed-to array keeps spare room, ten times the size of one slot); a
 * parent with many children (a node alias, a busy agent) gets a Set so
 * removals stay O(1).
 */
export type Children = number | readonly number[] | Set<number>;

/** The list with `slot` added; a Set is changed in place. */
export function withChild(children: Children | undefined, slot: number): Children {
  if (children === undefined) return slot;
  if (typeof children === "number") return [children, slot];
  if (children instanceof Set) return children.add(slot);
  if (children.length < arrayLimit) return children.concat(slot);
  return new Set(children).add(slot);
}

/** The list without `slot`, or undefined when nothing is left; a Set is changed in place. */
export function withoutChild(children: Children, slot: number): Children | undefined {
  if (typeof children === "number") return children === slot ? undefined : children;
  if (children instanceof Set) {
    children.delete(slot);
    return children.size > 0 ? children : undefined;
  }
  const rest = children.filter((s) => s !== slot);
  if (rest.length === 0) return undefined;
  return rest.length === 1 ? (rest[0] as number) : rest;
}

export function childrenOf(children: Children): Iterator<number> {
  return typeof children === "number" ? [children].values() : children.values();
}
