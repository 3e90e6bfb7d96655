/**
 * How SPIRE's gcp_kms names and labels what it keeps in Cloud KMS, so keys
 * made by SPIRE and by Signet are found by either:
 *
 * - one CryptoKey per SPIRE key id, with CryptoKey ID
 *   `spire-key-<server ID>-<SPIRE key id>` (at most 63 characters);
 * - labels `spire-server-td` (hex SHA-1 of the trust domain name: label values
 *   allow no dots), `spire-server-id`, `spire-active` ("true"/"false") and
 *   `spire-last-update` (Unix seconds of the last keep-alive);
 * - list filters on those labels: this server's active keys, and other
 *   servers' active keys in the trust domain that nobody kept alive lately.
 */
import { createHash } from "node:crypto";

export const cryptoKeyIdPrefix = "spire-key";

export const labels = {
  serverId: "spire-server-id",
  lastUpdate: "spire-last-update",
  trustDomain: "spire-server-td",
  active: "spire-active",
} as const;

/** Cloud KMS caps CryptoKey IDs at 63 characters of [a-zA-Z0-9_-]. */
export const maxCryptoKeyIdLength = 63;
/** The longest key id a SPIRE server asks for ("JWT-Signer-A"); the server ID must leave room for it. */
export const maxSpireKeyIdLength = "JWT-Signer-A".length;
/** What is left for a configured key identifier: 63 - "spire-key" - two dashes - 12 = 40. */
export const maxKeyIdentifierLength = maxCryptoKeyIdLength - cryptoKeyIdPrefix.length - 2 - maxSpireKeyIdLength;

/** The labels of a key ring's CryptoKeys that belong to one server of one trust domain. */
export interface ServerIdentity {
  readonly serverId: string;
  /** Hex SHA-1 of the trust domain name. */
  readonly trustDomainHash: string;
}

export function trustDomainHash(trustDomain: string): string {
  return createHash("sha1").update(trustDomain).digest("hex");
}

export function cryptoKeyId(serverId: string, spireKeyId: string): string {
  return `${cryptoKeyIdPrefix}-${serverId}-${spireKeyId}`;
}

/** Why `spireKeyId` cannot be part of a CryptoKey ID for `serverId`, or undefined if it can. */
export function cryptoKeyIdProblem(serverId: string, spireKeyId: string): string | undefined {
  const id = cryptoKeyId(serverId, spireKeyId);
  if (!/^[a-zA-Z0-9_-]*$/.test(spireKeyId)) return `key id ${JSON.stringify(spireKeyId)} has characters a Cloud KMS CryptoKey ID cannot hold; expected letters, digits, "_" and "-"`;
  if (id.length > maxCryptoKeyIdLength) {
    return `key id ${JSON.stringify(spireKeyId)} is too long: CryptoKey ID ${JSON.stringify(id)} would be ${id.length} characters, and Cloud KMS allows ${maxCryptoKeyIdLength}`;
  }
  return undefined;
}

/**
 * The SPIRE key id in a CryptoKey resource name made by `cryptoKeyId` for
 * `serverId`, or undefined if the name is not one of that server's keys.
 * (SPIRE assumes a 36-character UUID here; a key_identifier_value of another
 * length is read correctly only this way.)
 */
export function spireKeyIdOf(cryptoKeyName: string, serverId: string): string | undefined {
  const id = cryptoKeyName.slice(cryptoKeyName.lastIndexOf("/") + 1);
  const prefix = `${cryptoKeyIdPrefix}-${serverId}-`;
  if (!id.startsWith(prefix) || id.length === prefix.length) return undefined;
  return id.slice(prefix.length);
}

/** Labels of a CryptoKey this server creates at `now`. */
export function newCryptoKeyLabels(identity: ServerIdentity, now: Date): Record<string, string> {
  return {
    [labels.trustDomain]: identity.trustDomainHash,
    [labels.serverId]: identity.serverId,
    [labels.active]: "true",
    [labels.lastUpdate]: unixSeconds(now),
  };
}

/** ListCryptoKeys filter: this server's active keys. */
export function activeKeysFilter(identity: ServerIdentity): string {
  return `labels.${labels.trustDomain} = ${identity.trustDomainHash} AND labels.${labels.serverId} = ${identity.serverId} AND labels.${labels.active} = true`;
}

/** Keys not kept alive for this long belong to a server that is gone. */
export const maxStaleMs = 14 * 24 * 3600 * 1000;

/** ListCryptoKeys filter: other servers' keys in the trust domain, still active, not kept alive since `now - maxStaleMs`. */
export function staleKeysFilter(identity: ServerIdentity, now: Date): string {
  return (
    `labels.${labels.trustDomain} = ${identity.trustDomainHash} AND labels.${labels.serverId} != ${identity.serverId} ` +
    `AND labels.${labels.active} = true AND labels.${labels.lastUpdate} < ${unixSeconds(new Date(now.getTime() - maxStaleMs))}`
  );
}

/** ListCryptoKeyVersions filter: versions that can sign. */
export const enabledVersionsFilter = "state = ENABLED";

export function unixSeconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}
