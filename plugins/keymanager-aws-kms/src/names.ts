/**
 * How SPIRE's aws_kms KeyManager names what it leaves in KMS, byte for byte,
 * so a Signet server finds the keys a SPIRE server made (and the reverse):
 *
 *   alias        alias/SPIRE_SERVER/<trust domain, dots as _>/<server id>/<key id, . as _2e, + as _2b>
 *   description  SPIRE_SERVER_KEY/<trust domain, dots as _>/<key id>
 *
 * The prefixes that decide which aliases and keys belong to a trust domain or
 * a server end with "/" here; SPIRE compares without it, so its server "abc"
 * would also skip (and its trust domain "example.org" also dispose of) the
 * stale aliases of server "abcd" (of "example.org2").
 */
export const aliasPrefix = "alias/SPIRE_SERVER/";
export const descriptionPrefix = "SPIRE_SERVER_KEY/";

export class Names {
  /** `trustDomain` as it appears in names. */
  private readonly domain: string;

  constructor(
    trustDomain: string,
    readonly serverId: string,
  ) {
    this.domain = sanitizeTrustDomain(trustDomain);
  }

  /** The alias of key `spireKeyId` of this server. */
  alias(spireKeyId: string): string {
    return `${this.serverAliasPrefix()}${encodeKeyId(spireKeyId)}`;
  }

  /** The description every key of this trust domain carries. */
  description(spireKeyId: string): string {
    return `${descriptionPrefix}${this.domain}/${spireKeyId}`;
  }

  /** The SPIRE key id an alias of this server names, or undefined for anyone else's alias. */
  spireKeyIdOf(aliasName: string): string | undefined {
    const prefix = this.serverAliasPrefix();
    if (!aliasName.startsWith(prefix) || aliasName.length === prefix.length) return undefined;
    return decodeKeyId(aliasName.slice(prefix.length));
  }

  /** Aliases of every server of this trust domain start with this. */
  trustDomainAliasPrefix(): string {
    return `${aliasPrefix}${this.domain}/`;
  }

  /** Aliases of this server start with this. */
  serverAliasPrefix(): string {
    return `${this.trustDomainAliasPrefix()}${this.serverId}/`;
  }

  /** Keys of every server of this trust domain have descriptions starting with this. */
  trustDomainDescriptionPrefix(): string {
    return `${descriptionPrefix}${this.domain}/`;
  }
}

/** KMS alias names have no dots: SPIRE writes the trust domain with underscores. */
export function sanitizeTrustDomain(trustDomain: string): string {
  return trustDomain.replaceAll(".", "_");
}

/** "." and "+" are not allowed in alias names: SPIRE escapes them as "_" and their hex code. */
export function encodeKeyId(keyId: string): string {
  return keyId.replaceAll(".", "_2e").replaceAll("+", "_2b");
}

export function decodeKeyId(encoded: string): string {
  return encoded.replaceAll("_2e", ".").replaceAll("_2b", "+");
}
