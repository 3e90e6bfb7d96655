/**
 * FNV-1a over a string's UTF-16 code units, as a signed 32-bit integer: the
 * index's path hashes and the id table's probe start (masked to its size).
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
