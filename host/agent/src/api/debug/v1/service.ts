/**
 * spire.api.agent.debug.v1.Debug on the admin socket: the agent SVID chain,
 * uptime, last successful sync and cache sizes (SPIRE's GetInfo).
 */
import { X509Certificate } from "node:crypto";
import { implement, type ServiceRegistration } from "@signet/proto";
import { DebugService } from "@signet/proto/spire/api/agent/debug/v1/debug";

export interface DebugDeps {
  readonly svidChain: () => readonly Buffer[];
  readonly uptimeSeconds: () => number;
  /** ms since the epoch; 0 when never. */
  readonly lastSyncSuccess: () => number;
  readonly cachedX509Svids: () => number;
  readonly cachedJwtSvids: () => number;
}

export function debugService(deps: DebugDeps): ServiceRegistration {
  return implement(DebugService, {
    async getInfo() {
      const svidChain = deps.svidChain().map((der) => {
        const cert = new X509Certificate(der);
        const uri = /URI:(spiffe:\/\/[^,]+)/.exec(cert.subjectAltName ?? "")?.[1];
        const id = uri ? new URL(uri) : undefined;
        return {
          id: id ? { trustDomain: id.host, path: id.pathname === "/" ? "" : id.pathname } : undefined,
          expiresAt: BigInt(Math.floor(Date.parse(cert.validTo) / 1000)),
          subject: cert.subject.split("\n").reverse().join(","),
        };
      });
      const cached = deps.cachedX509Svids();
      return {
        svidChain,
        uptime: deps.uptimeSeconds(),
        svidsCount: cached,
        lastSyncSuccess: BigInt(Math.floor(deps.lastSyncSuccess() / 1000)),
        cachedX509SvidsCount: cached,
        cachedJwtSvidsCount: deps.cachedJwtSvids(),
        cachedSvidstoreX509SvidsCount: 0,
      };
    },
  });
}
