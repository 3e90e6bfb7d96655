/**
 * What every KeyManager plugin that holds its own keys shares: generating
 * SPIRE's four key types, the key store that answers GetPublicKey(s) and
 * SignData, and signing a precomputed digest as Go's crypto.Signer does.
 * Pure code (no files) plus its gRPC edge (handlers.ts); a plugin adds where keys live.
 */
export { KeyType, KeyManagerError, type KeyManagerErrorKind, type PublicKeyInfo, type KeyEntry, generateKeyEntry, keyEntryFromPrivateKey, fingerprintOf, isKeyType } from "./key-entry.js";
export { KeyStore, type SignerOpts, type Signature, type Signatures } from "./key-store.js";
export { keyManagerHandlers, batchSignerService, type KeyManagerDomain, type KeyManagerHandlerOptions } from "./handlers.js";
export { batchLimits } from "./batch-signing.js";
