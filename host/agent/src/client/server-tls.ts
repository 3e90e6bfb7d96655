/**
 * TLS to the SPIRE/Signet server as the stock agent dials it: the server's
 * chain must verify against the agent's bundle and its leaf must carry
 * exactly the URI SAN `spiffe://<td>/spire/server` (no hostname check,
 * TLS >= 1.2). With an agent SVID the connection is mutual; without one it
 * is server-authenticated only (attestation, bootstrap GetBundle).
 */
import { type KeyObject, X509Certificate } from "node:crypto";
import { type ChannelCredentials, credentials } from "@grpc/grpc-js";
import type { TrustDomain } from "@signet/spiffe";

export interface ClientIdentity {
  /** Agent SVID chain, leaf first, DER. */
  readonly chain: readonly Buffer[];
  readonly privateKey: KeyObject;
}

export function serverId(trustDomain: TrustDomain): string {
  return `spiffe://${trustDomain.name}/spire/server`;
}

/**
 * Credentials checking the server against `roots` (DER X.509 authorities of
 * the agent's bundle). `roots` empty means insecure bootstrap: any chain is
 * accepted as long as the leaf names the server.
 */
export function serverCredentials(trustDomain: TrustDomain, roots: readonly Buffer[], client?: ClientIdentity): ChannelCredentials {
  const expected = `URI:${serverId(trustDomain)}`;
  const insecure = roots.length === 0;
  const rootPem = insecure ? null : Buffer.from(roots.map(pemOf).join(""));
  return credentials.createSsl(
    rootPem,
    client ? Buffer.from(client.privateKey.export({ type: "pkcs8", format: "pem" }) as string) : null,
    client ? Buffer.from(client.chain.map(pemOf).join("")) : null,
    {
      ...(insecure ? { rejectUnauthorized: false } : {}),
      checkServerIdentity: (_host, cert) => {
        const san = cert.raw ? new X509Certificate(cert.raw).subjectAltName : undefined;
        if (san !== expected) return new Error(`unexpected server ID ${JSON.stringify(san ?? "")}; expected ${JSON.stringify(expected)}`);
        return undefined;
      },
    },
  );
}

export function pemOf(der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
