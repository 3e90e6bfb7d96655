/**
 * Who is calling and may they (SPIRE's authorization middleware,
 * pkg/server/api/middleware/{caller,authorization_opa}.go): the caller is
 * established from the transport, then the method's policy is checked in
 * SPIRE's order — any, local, admin (admin_ids, then entries), downstream,
 * agent (TCP only).
 */
import { Code, RpcError } from "@signet/proto";
import type { SpiffeId, TrustDomain } from "@signet/spiffe";
import type { AuthorizedEntries } from "../authorizedentries/authorized-entries.js";
import type { Caller, CallerSvid } from "../api/rpccontext/caller.js";
import { type AttestedNodes, authorizeAgent } from "./agent-authorizer.js";
import type { X509BundleSource } from "./bundle-source.js";
import { permissionDenied } from "@signet/host-common";
import { AgentDenied } from "./permission-denied.js";
import { policyFor } from "./policy.js";
import type { PeerConnection } from "./tls-listener.js";
import { notAfterOf, serialOf, SvidVerifyError, verifyX509Svid } from "./x509svid-verify.js";

export interface AuthorizerDeps {
  readonly trustDomain: TrustDomain;
  /** admin_ids, as SPIFFE ID strings. */
  readonly adminIds: readonly string[];
  readonly bundles: X509BundleSource;
  readonly entries: Pick<AuthorizedEntries, "isAdmin" | "isDownstream">;
  readonly nodes: AttestedNodes;
  readonly now?: () => Date;
}

export class Authorizer {
  private readonly adminIds: ReadonlySet<string>;
  private readonly now: () => Date;

  constructor(private readonly deps: AuthorizerDeps) {
    this.adminIds = new Set(deps.adminIds);
    this.now = deps.now ?? (() => new Date());
  }

  /** A caller on the local socket: allowed where the policy says "local" (or "any"). */
  authorizeLocal(fullMethod: string, address: string): Caller {
    const policy = policyFor(fullMethod);
    if (policy.any || policy.local) return { local: true, address, admin: false, downstream: false };
    throw denied(fullMethod);
  }

  /** A TCP caller, with or without a client certificate. */
  async authorizeTcp(fullMethod: string, conn: PeerConnection): Promise<Caller> {
    const address = `${conn.remoteAddress}:${conn.remotePort}`;
    const svid = await this.callerSvid(conn);
    const base: Caller = svid ? { local: false, address, x509Svid: svid.svid, admin: false, downstream: false } : { local: false, address, admin: false, downstream: false };
    const policy = policyFor(fullMethod);
    if (policy.any) return base;
    if (!svid) {
      // No certificate: nothing but "any" can match over TCP.
      throw denied(fullMethod);
    }
    const id = svid.svid.id.toString();
    const current = !svid.expired;
    if (policy.admin && current && this.adminIds.has(id)) return { ...base, admin: true };
    if (policy.admin && current && this.deps.entries.isAdmin(id)) return { ...base, admin: true };
    if (policy.downstream && current && this.deps.entries.isDownstream(id)) return { ...base, downstream: true };
    if (policy.agent) {
      try {
        await authorizeAgent(this.deps.nodes, { id, serial: svid.svid.serial, notAfter: svid.svid.notAfter }, this.now());
      } catch (err) {
        if (err instanceof AgentDenied) throw denied(fullMethod, err);
        throw err;
      }
      return { ...base, agentId: svid.svid.id };
    }
    throw denied(fullMethod);
  }

  /**
   * The caller's verified SVID. A certificate that is not a valid X509-SVID
   * of this trust domain (or of an admin ID's federated one) fails the call
   * with Unauthenticated. An expired leaf is kept, flagged, so the agent
   * check can say AGENT_EXPIRED.
   */
  private async callerSvid(conn: PeerConnection): Promise<{ svid: CallerSvid; expired: boolean } | undefined> {
    if (conn.peerChain.length === 0) return undefined;
    const now = this.now();
    let id: SpiffeId;
    let chain: CallerSvid["chain"];
    try {
      ({ id, chain } = await verifyX509Svid(conn.peerChain, this.deps.bundles, { now, allowExpiredLeaf: true }));
    } catch (err) {
      if (err instanceof SvidVerifyError) throw new RpcError(Code.UNAUTHENTICATED, `client certificate is not a valid X509-SVID: ${err.message}`);
      throw err;
    }
    if (!id.memberOf(this.deps.trustDomain) && !this.adminIds.has(id.toString())) {
      throw new RpcError(Code.UNAUTHENTICATED, `client certificate is not a valid X509-SVID: unexpected trust domain in ID "${id.toString()}"`);
    }
    const leaf = conn.peerChain[0]!;
    const notAfter = notAfterOf(leaf);
    return { svid: { id, chain, serial: serialOf(leaf), notAfter }, expired: now.getTime() > notAfter.getTime() };
  }
}

function denied(fullMethod: string, agent?: AgentDenied): RpcError {
  return permissionDenied(`authorization denied for method ${fullMethod}`, agent?.reason);
}
