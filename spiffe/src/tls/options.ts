/**
 * Node TLS options from SPIFFE material, after go-spiffe's tlsconfig: TLS-only and mutual TLS,
 * server and client. Each call reads the source's current SVID and bundles, so build options
 * per connection (clients) or let createTlsServer/attachSpiffeServer swap them on rotation.
 *
 * Trust: OpenSSL is given every X.509 authority of every trust domain, so a chain that leads
 * to none of them fails in the handshake; our own check then requires the chain to reach the
 * bundle of the peer's own trust domain (bundles are never merged for the decision), runs
 * go-spiffe's leaf rules and the authorizer. Clients do it in checkServerIdentity, before
 * 'secureConnect'; servers after the handshake (createMtlsServer, attachSpiffeServer).
 */
import type { ConnectionOptions, PeerCertificate, TlsOptions } from "node:tls";
import type { X509BundleSetSource } from "../x509bundle/index.js";
import type { X509SvidSource } from "../x509svid/index.js";
import type { Authorizer } from "./authorizer.js";
import { authorizeChain, peerChainOf } from "./peer.js";

/** TLS 1.2 is the floor, as go-spiffe's tlsconfig sets it. */
const minVersion = "TLSv1.2" as const;

/** A server presenting the current X509-SVID; clients are not asked for certificates. */
export function tlsServerOptions(svid: X509SvidSource): TlsOptions {
  return { ...identity(svid), minVersion };
}

/**
 * A server presenting the current X509-SVID and requiring a client X509-SVID that chains to
 * one of the source's bundles. The authorizer runs after the handshake: use createMtlsServer
 * or attachSpiffeServer(server, source, authorizer), or call authorizePeer() yourself.
 */
export function mtlsServerOptions(source: X509SvidSource & X509BundleSetSource): TlsOptions {
  return { ...identity(source), ca: trustStore(source), requestCert: true, rejectUnauthorized: true, minVersion };
}

/** A client that presents no certificate and accepts a server whose X509-SVID verifies and passes `authorizer`. */
export function tlsClientOptions(bundles: X509BundleSetSource, authorizer: Authorizer): ConnectionOptions {
  return { ...serverCheck(bundles, authorizer), minVersion };
}

/** A client presenting the current X509-SVID and accepting a server whose X509-SVID verifies and passes `authorizer`. */
export function mtlsClientOptions(source: X509SvidSource & X509BundleSetSource, authorizer: Authorizer): ConnectionOptions {
  return { ...identity(source), ...serverCheck(source, authorizer), minVersion };
}

function identity(svid: X509SvidSource): { cert: string; key: string } {
  const current = svid.getX509Svid();
  return { cert: current.certificatesPem(), key: current.privateKeyPem() };
}

function trustStore(bundles: X509BundleSetSource): string[] {
  return bundles
    .getX509BundleSet()
    .bundles()
    .flatMap((b) => b.x509Authorities.map((c) => c.toString()));
}

function serverCheck(bundles: X509BundleSetSource, authorizer: Authorizer): ConnectionOptions {
  const set = bundles.getX509BundleSet();
  return {
    ca: trustStore(set),
    rejectUnauthorized: true,
    // SVIDs carry no DNS names to match: the SPIFFE ID check replaces hostname verification.
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      try {
        authorizeChain(peerChainOf(cert), set, authorizer);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    },
  };
}
