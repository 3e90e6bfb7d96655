/**
 * CRC-32C (Castagnoli), as Google Cloud KMS computes the integrity checksums
 * it sends with public keys and signatures (pem_crc32c, signature_crc32c) and
 * verifies on digests (digest_crc32c). Kept apart from the plugin's own copy
 * so a mistake in one does not hide in the other.
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
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
