import { Entry } from "@signet/proto/spire/api/types/entry";
import { describe, expect, it } from "vitest";
import { type EncodedEntry, encodeEntry } from "./encoded-entry.js";
import { IdTable } from "./id-table.js";

describe("IdTable", () => {
  it("maps ids to slots through growth, deletes and reuse, reading ids from the entries", () => {
    const slots: (EncodedEntry | undefined)[] = [];
    const table = new IdTable((slot) => slots[slot] as EncodedEntry);
    const put = (id: string, slot: number) => {
      slots[slot] = encodeEntry(Entry.fromPartial({ id, hint: `slot ${slot}` }));
      table.set(id, slot);
    };
    const model = new Map<string, number>();
    // Deterministic churn: inserts, deletes and re-inserts, enough to force rehashes.
    let free: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const id = i % 7 === 3 ? `ü-${i}` : `id-${i}`;
      const slot = free.pop() ?? slots.length;
      put(id, slot);
      model.set(id, slot);
      if (i % 3 === 0) {
        const victim = i % 7 === 3 ? `ü-${i}` : `id-${Math.floor(i / 2)}`;
        const had = model.get(victim);
        expect(table.delete(victim)).toBe(had !== undefined);
        if (had !== undefined) {
          model.delete(victim);
          slots[had] = undefined;
          free = [had, ...free];
        }
      }
    }
    expect(table.size).toBe(model.size);
    for (const [id, slot] of model) expect(table.get(id)).toBe(slot);
    for (const id of ["id-", "id-5000", "ü", "", "id-1x"]) expect(table.get(id)).toBeUndefined();
    expect(table.delete("never")).toBe(false);
  });

  it("tells apart ids that are prefixes of each other, long ones included", () => {
    const ids = ["a", "ab", "abc", "x".repeat(300), "x".repeat(301)];
    const slots = ids.map((id) => encodeEntry(Entry.fromPartial({ id })));
    const table = new IdTable((slot) => slots[slot] as EncodedEntry);
    ids.forEach((id, i) => table.set(id, i));
    expect([...ids, "abcd", "x".repeat(299)].map((id) => table.get(id))).toEqual([0, 1, 2, 3, 4, undefined, undefined]);
  });
});
