/**
 * spire.hostservice.server.identityprovider.v1.IdentityProvider: gives server
 * plugins the server's own X509-SVID (chain and PKCS#8 key) and the trust
 * domain's current bundle, e.g. for x509pop in spiffe mode or a plugin that
 * calls another service as the server.
 */
import { Code, RpcError, type ServiceRegistration, implement } from "@signet/proto";
import { IdentityProviderService } from "@signet/proto/spire/hostservice/server/identityprovider/v1/identityprovider";
import type { DataStore } from "../datastore/datastore.js";
import type { ServerSvidSource } from "../svid/rotator.js";

export interface IdentityProviderDeps {
  readonly dataStore: DataStore;
  readonly serverSvid: ServerSvidSource;
}

export function identityProviderService(trustDomain: string, deps: () => IdentityProviderDeps | undefined): ServiceRegistration {
  return implement(IdentityProviderService, {
    async fetchX509Identity() {
      const d = deps();
      if (!d) throw new RpcError(Code.FAILED_PRECONDITION, "IdentityProvider host service has not been initialized");
      let bundle;
      try {
        bundle = (await d.dataStore.fetchBundle({ trustDomain })).bundle;
      } catch (e) {
        if (!(e instanceof RpcError && e.code === Code.NOT_FOUND)) throw e;
      }
      if (!bundle) throw new RpcError(Code.NOT_FOUND, `bundle for trust domain "${trustDomain}" not found`);
      const svid = d.serverSvid.current();
      return {
        identity: {
          certChain: [...svid.certChain],
          privateKey: svid.privateKey.export({ format: "der", type: "pkcs8" }),
        },
        bundle: {
          trustDomain,
          x509Authorities: bundle.x509Authorities.map((a) => ({ asn1: a.asn1, tainted: a.tainted })),
          jwtAuthorities: bundle.jwtAuthorities.map((k) => ({ publicKey: k.publicKey, keyId: k.keyId, expiresAt: k.expiresAt, tainted: k.tainted })),
          refreshHint: bundle.refreshHint,
          sequenceNumber: 0n,
          witAuthorities: [],
        },
      };
    },
  });
}
