import { type EncodedEntry, entryIdOf } from "./encoded-entry.js";
import { fnv1a } from "./fnv1a.js";

const empty = 0;
const deleted = -1;

/**
 * Entry id → cache slot, without keeping the id strings: an open-addressing
 * hash table of slot numbers (4 bytes each, twice as many as entries), where
 * a probe checks the candidate entry's encoded id in place. A Map keyed by
 * id would keep a second copy of every id plus a hash-table entry, about a
 * quarter of what the whole cache holds per entry.
 *
 * Cells hold slot + 1 (0 = empty, -1 = deleted).
 */
export class IdTable {
  private cells = new Int32Array(1024);
  private used = 0;
  private live = 0;

  constructor(private readonly entryAt: (slot: number) => EncodedEntry) {}

  get size(): number {
    return this.live;
  }

  get(id: string): number | undefined {
    const key = wireText(id);
    const mask = this.cells.length - 1;
    for (let i = fnv1a(key) & mask; ; i = (i + 1) & mask) {
      const cell = this.cells[i] as number;
      if (cell === empty) return undefined;
      if (cell !== deleted && idEquals(this.entryAt(cell - 1), key)) return cell - 1;
    }
  }

  /** Records a slot for an id the table does not hold (callers remove the old one first). */
  set(id: string, slot: number): void {
    if ((this.used + 1) * 2 > this.cells.length) this.rehash();
    const mask = this.cells.length - 1;
    let i = fnv1a(wireText(id)) & mask;
    while ((this.cells[i] as number) > 0) i = (i + 1) & mask;
    if (this.cells[i] === empty) this.used++;
    this.cells[i] = slot + 1;
    this.live++;
  }

  delete(id: string): boolean {
    const key = wireText(id);
    const mask = this.cells.length - 1;
    for (let i = fnv1a(key) & mask; ; i = (i + 1) & mask) {
      const cell = this.cells[i] as number;
      if (cell === empty) return false;
      if (cell !== deleted && idEquals(this.entryAt(cell - 1), key)) {
        this.cells[i] = deleted;
        this.live--;
        return true;
      }
    }
  }

  /** Grows (or just clears tombstones) to twice the live size, at least. */
  private rehash(): void {
    const old = this.cells;
    let capacity = 1024;
    while (capacity < (this.live + 1) * 4) capacity *= 2;
    this.cells = new Int32Array(capacity);
    this.used = 0;
    this.live = 0;
    const mask = capacity - 1;
    for (const cell of old) {
      if (cell <= 0) continue;
      let i = fnv1a(wireText(entryIdOf(this.entryAt(cell - 1)))) & mask;
      while (this.cells[i] !== empty) i = (i + 1) & mask;
      this.cells[i] = cell;
      this.used++;
      this.live++;
    }
  }
}

/** The id as its UTF-8 bytes, one per character: how it appears in an encoded entry. */
function wireText(id: string): string {
  for (let i = 0; i < id.length; i++) {
    if (id.charCodeAt(i) >= 0x80) return Buffer.from(id, "utf8").toString("latin1");
  }
  return id;
}

/**
 * Whether the encoded entry's id is `key`. Our encoder writes the id first
 * (tag 0x0a, then its length) whenever it is not empty.
 */
function idEquals(encoded: EncodedEntry, key: string): boolean {
  if (key.length === 0) return encoded.length === 0 || encoded.charCodeAt(0) !== 0x0a;
  if (encoded.charCodeAt(0) !== 0x0a) return false;
  let len = 0;
  let at = 1;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = encoded.charCodeAt(at++);
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return len === key.length && encoded.startsWith(key, at);
}
