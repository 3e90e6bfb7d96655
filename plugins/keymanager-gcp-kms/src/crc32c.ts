/**
 * CRC-32C (Castagnoli): the checksum Cloud KMS puts beside public keys and
 * signatures, and expects beside digests, so corruption between the service
 * and us is caught (https://cloud.google.com/kms/docs/data-integrity-guidelines).
 */
const table = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Whether an Int64Value checksum as the client library decodes it (number, string or Long) is `expected`. */
export function checksumMatches(value: { value?: unknown } | null | undefined, expected: number): boolean {
  const v = value?.value;
  if (v === undefined || v === null) return false;
  return Number(typeof v === "object" ? String(v) : v) === expected;
}
