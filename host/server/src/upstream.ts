/**
 * The UpstreamAuthority plugin as the CA manager sees it: the host-common
 * facade adapted to `ca/upstream.ts`. An Unimplemented PublishJWTKey means
 * the key stays in the local bundle only (SPIRE's behaviour).
 */
import { type ManagedPlugin, UpstreamAuthorityFacade } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import { UpstreamAuthorityService } from "@signet/proto/spire/plugin/server/upstreamauthority/v1/upstreamauthority";
import type { UpstreamAuthority } from "./ca/upstream.js";

export function upstreamAuthorityOf(plugin: ManagedPlugin): UpstreamAuthority {
  const facade = new UpstreamAuthorityFacade(plugin.client(UpstreamAuthorityService), plugin.name);
  return {
    name: plugin.name,
    mintX509Ca: (csr, ttl) => facade.mintX509Ca(csr, ttl),
    async publishJwtKey(key) {
      const keys = await facade.publishJwtKey({ publicKey: key.publicKey, keyId: key.keyId, expiresAt: key.expiresAt, tainted: key.tainted });
      if (keys === undefined) throw new RpcError(Code.UNIMPLEMENTED, `upstreamauthority(${plugin.name}): publishing JWT keys is not supported`);
      return keys.map((k) => ({ publicKey: k.publicKey, keyId: k.keyId, expiresAt: k.expiresAt, tainted: k.tainted }));
    },
  };
}
