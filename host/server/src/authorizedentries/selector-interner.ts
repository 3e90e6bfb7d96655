import type { Selector } from "@signet/proto/spire/api/types/selector";

const emptySelectors: readonly Selector[] = Object.freeze([]);

/**
 * A selector shared by every agent and node alias that has it, frozen; the
 * reference count is a private field, invisible to encoders and comparisons.
 */
class SharedSelector implements Selector {
  #refs = 1;
  constructor(
    readonly type: string,
    readonly value: string,
  ) {
    Object.freeze(this);
  }

  acquire(): this {
    this.#refs++;
    return this;
  }

  /** True when nothing holds it any more. */
  release(): boolean {
    return --this.#refs <= 0;
  }
}

/**
 * Selectors shared between agents and node aliases, which the index matches
 * by identity. Reference counted (values such as subjects are often unique,
 * and churn must not grow the table forever) and found by type then value,
 * so no key string is built per selector.
 */
export class Interner {
  private readonly selectors = new Map<string, Map<string, SharedSelector>>();

  /** The shared selector for (type, value); each call must be paired with a release. */
  selector(type: string, value: string): Selector {
    let byValue = this.selectors.get(type);
    if (!byValue) {
      byValue = new Map();
      this.selectors.set(type, byValue);
    }
    const known = byValue.get(value);
    if (known) return known.acquire();
    const sel = new SharedSelector(type, value);
    byValue.set(value, sel);
    return sel;
  }

  /** The shared selector if some holder has it (lookups that must not take a reference). */
  find(type: string, value: string): Selector | undefined {
    return this.selectors.get(type)?.get(value);
  }

  release(selectors: readonly Selector[]): void {
    for (const s of selectors) {
      if (!(s instanceof SharedSelector) || !s.release()) continue;
      const byValue = this.selectors.get(s.type);
      if (byValue?.get(s.value) !== s) continue;
      byValue.delete(s.value);
      if (byValue.size === 0) this.selectors.delete(s.type);
    }
  }
}

/** Shared selectors for a list, duplicates dropped (a set, as SPIRE treats selectors). */
export function sharedSelectors(list: readonly Selector[], interner: Interner): readonly Selector[] {
  if (list.length === 0) return emptySelectors;
  const out: Selector[] = [];
  for (const s of list) {
    const shared = interner.selector(s.type, s.value);
    if (out.includes(shared)) interner.release([shared]);
    else out.push(shared);
  }
  return Object.freeze(out);
}
