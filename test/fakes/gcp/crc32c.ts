/**
 * CRC-32C (Castagnoli), as Google Cloud KMS computes the integrity checksums it sends with public
 * keys and signatures (pem_crc32c, signature_crc32c) and verifies on digests (digest_crc32c). The
 * fake uses the plugin's implementation, which its own test checks against the standard check
 * value; a second identical copy here would not have caught a mistake in either.
 */
export { crc32c } from "../../../plugins/keymanager-gcp-kms/src/crc32c.js";
