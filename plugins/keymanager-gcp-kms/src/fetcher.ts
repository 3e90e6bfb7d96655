/**
 * Finding this server's keys again at Configure: the key ring's CryptoKeys
 * labelled with this trust domain and server ID and still active, each with
 * its newest ENABLED version and that version's public key. This is how keys
 * survive a restart: nothing is stored locally but the server ID.
 */
import { type Clock, KeyManagerError, type PublicKeyInfo, fingerprintOf } from "@signet/plugin-sdk";
import { type Algorithm, algorithmOf, keyTypeOf } from "./algorithms.js";
import type { CryptoKey, CryptoKeyVersion, Deadline, Kms } from "./kms-client.js";
import { type ServerIdentity, activeKeysFilter, enabledVersionsFilter, spireKeyIdOf } from "./naming.js";
import { fetchPublicKey } from "./public-key.js";

/** A SPIRE key held in Cloud KMS: its CryptoKey, the version that signs, and its public half. */
export interface KmsKeyEntry {
  readonly cryptoKey: CryptoKey;
  readonly versionName: string;
  readonly algorithm: Algorithm;
  readonly publicKey: PublicKeyInfo;
}

export interface FetchOptions {
  readonly kms: Kms;
  readonly clock: Clock;
  readonly keyRing: string;
  readonly identity: ServerIdentity;
  readonly deadline: Deadline;
  /** Told about CryptoKeys that carry this server's labels but are not named as its keys. */
  readonly onForeignKey?: (cryptoKeyName: string) => void;
}

export async function fetchKeyEntries(options: FetchOptions): Promise<KmsKeyEntry[]> {
  const { kms, keyRing, identity, deadline } = options;
  let keys: CryptoKey[];
  try {
    keys = await kms.listCryptoKeys(keyRing, activeKeysFilter(identity), deadline);
  } catch (e) {
    throw new KeyManagerError("internal", `failed to list SPIRE Server keys in Cloud KMS: ${(e as Error).message}`);
  }
  const found = await Promise.all(
    keys.map(async (cryptoKey) => {
      const spireKeyId = spireKeyIdOf(cryptoKey.name, identity.serverId);
      if (spireKeyId === undefined) {
        options.onForeignKey?.(cryptoKey.name);
        return undefined;
      }
      try {
        return await entryOf(options, cryptoKey, spireKeyId);
      } catch (e) {
        throw new KeyManagerError("internal", `failed to fetch entries: ${(e as Error).message}`);
      }
    }),
  );
  return found.filter((e): e is KmsKeyEntry => e !== undefined);
}

/** The entry of one CryptoKey: its newest enabled version, or none if no version is enabled. */
async function entryOf(options: FetchOptions, cryptoKey: CryptoKey, spireKeyId: string): Promise<KmsKeyEntry | undefined> {
  let versions: CryptoKeyVersion[];
  try {
    versions = await options.kms.listCryptoKeyVersions(cryptoKey.name, enabledVersionsFilter, options.deadline);
  } catch (e) {
    throw new Error(`failure listing CryptoKeyVersions: ${(e as Error).message}`);
  }
  const newest = versions.reduce<CryptoKeyVersion | undefined>((a, b) => (a === undefined || versionNumber(b.name) > versionNumber(a.name) ? b : a), undefined);
  if (newest === undefined) return undefined;
  const type = keyTypeOf(newest.algorithm);
  const algorithm = algorithmOf(type ?? 0);
  if (type === undefined || algorithm === undefined) throw new Error(`unsupported CryptoKeyVersionAlgorithm: ${newest.algorithm}`);
  let pkixData: Buffer;
  try {
    pkixData = await fetchPublicKey(options.kms, options.clock, newest.name, algorithm, options.deadline);
  } catch (e) {
    throw new Error(`error getting public key: ${(e as Error).message}`);
  }
  return { cryptoKey, versionName: newest.name, algorithm, publicKey: { id: spireKeyId, type, pkixData, fingerprint: fingerprintOf(pkixData) } };
}

export function versionNumber(versionName: string): number {
  const n = Number(versionName.slice(versionName.lastIndexOf("/") + 1));
  return Number.isInteger(n) ? n : -1;
}
