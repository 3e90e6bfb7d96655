/**
 * The agent's client of the server APIs (SPIRE's pkg/agent/client): one
 * shared mTLS connection that presents the current agent SVID, dropped and
 * re-dialled after every SVID rotation, a 30 s deadline per call, and the
 * few RPCs a stock agent makes, each checked as the stock agent checks it.
 */
import { Channel } from "@grpc/grpc-js";
import { noChannelz, type AsyncClient, Code, createClient, RpcError } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import { SVIDService } from "@signet/proto/spire/api/server/svid/v1/svid";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { JWTSVID } from "@signet/proto/spire/api/types/jwtsvid";
import type { X509SVID } from "@signet/proto/spire/api/types/x509svid";
import type { TrustDomain } from "@signet/spiffe";
import { type ClientIdentity, serverCredentials } from "./server-tls.js";
import { syncAuthorizedEntries } from "./sync.js";

/** SPIRE's per-RPC timeout for agent → server calls. */
export const rpcTimeoutMs = 30_000;

export interface ServerClientOptions {
  readonly trustDomain: TrustDomain;
  /** host:port */
  readonly address: string;
  /** The X.509 authorities (DER) the server's chain must verify against: the current bundle. */
  readonly roots: () => readonly Buffer[];
  /** The agent SVID presented as client certificate. */
  readonly identity: () => ClientIdentity;
}

export interface X509SvidResult {
  readonly entryId: string;
  readonly svid?: X509SVID;
  /** Set when the server refused this one item. */
  readonly error?: { readonly code: number; readonly message: string };
}

export class ServerClient {
  private channel: Channel | undefined;
  /** The identity the current channel presents. */
  private dialledWith: ClientIdentity | undefined;
  private clients: { agent: AsyncClient<typeof AgentService>; bundle: AsyncClient<typeof BundleService>; entry: AsyncClient<typeof EntryService>; svid: AsyncClient<typeof SVIDService> } | undefined;

  constructor(private readonly options: ServerClientOptions) {}

  /** Drops the connection; the next call dials again with the then-current SVID and bundle. */
  release(): void {
    this.channel?.close();
    this.channel = undefined;
    this.clients = undefined;
    this.dialledWith = undefined;
  }

  /**
   * Runs one call; a PermissionDenied that arrives after the agent SVID was
   * rotated concerns the old SVID (the server no longer accepts it once the
   * agent attested again), so it is reported as Unavailable: retry, do not
   * react to it.
   */
  private async call<T>(fn: (api: NonNullable<ServerClient["clients"]>) => Promise<T>): Promise<T> {
    const api = this.api();
    const used = this.dialledWith;
    try {
      return await fn(api);
    } catch (e) {
      if (e instanceof RpcError && e.code === Code.PERMISSION_DENIED && used !== undefined && used.chain[0] !== this.options.identity().chain[0]) {
        throw new RpcError(Code.UNAVAILABLE, `call made with the previous agent SVID was refused after rotation: ${e.message}`);
      }
      throw e;
    }
  }

  async renewAgent(csr: Buffer): Promise<X509SVID> {
    const res = await this.call((api) => api.agent.renewAgent({ params: { csr } }, { deadline: rpcTimeoutMs }));
    if (!res.svid || res.svid.certChain.length === 0) throw new RpcError(Code.INTERNAL, "renew response missing SVID");
    return res.svid;
  }

  async postStatus(agentVersion: string): Promise<void> {
    await this.call((api) => api.agent.postStatus({ currentBundleSerial: 0n, agentVersion }, { deadline: rpcTimeoutMs }));
  }

  /** The entries authorized for this agent, by SPIRE's SyncAuthorizedEntries choreography against `cached`. */
  async syncAuthorizedEntries(cached: ReadonlyMap<string, Entry>): Promise<Entry[]> {
    return this.call((api) => syncAuthorizedEntries(api.entry, cached, rpcTimeoutMs));
  }

  async getBundle(): Promise<Bundle> {
    return this.call((api) => api.bundle.getBundle({ outputMask: undefined }, { deadline: rpcTimeoutMs }));
  }

  async getFederatedBundle(trustDomain: string): Promise<Bundle> {
    return this.call((api) => api.bundle.getFederatedBundle({ trustDomain, outputMask: undefined }, { deadline: rpcTimeoutMs }));
  }

  /** One BatchNewX509SVID call; per-item failures come back as results with `error`. */
  async newX509Svids(params: readonly { entryId: string; csr: Buffer }[]): Promise<X509SvidResult[]> {
    const res = await this.call((api) => api.svid.batchNewX509Svid({ params: [...params] }, { deadline: rpcTimeoutMs }));
    if (res.results.length !== params.length) {
      throw new RpcError(Code.INTERNAL, `server answered ${res.results.length} results for ${params.length} requests`);
    }
    return res.results.map((r, i) => {
      const entryId = params[i]!.entryId;
      const code = r.status?.code ?? 0;
      if (code !== 0) return { entryId, error: { code, message: r.status?.message ?? "" } };
      if (!r.svid || r.svid.certChain.length === 0) return { entryId, error: { code: Code.INTERNAL, message: "result missing SVID" } };
      return { entryId, svid: r.svid };
    });
  }

  async newJwtSvid(entryId: string, audience: readonly string[], timeoutMs = rpcTimeoutMs): Promise<JWTSVID> {
    const res = await this.call((api) => api.svid.newJwtsvid({ entryId, audience: [...audience] }, { deadline: timeoutMs }));
    const svid = res.svid;
    if (!svid || svid.token === "") throw new RpcError(Code.INTERNAL, "JWTSVID response missing token");
    if (svid.issuedAt === 0n || svid.expiresAt === 0n || svid.issuedAt > svid.expiresAt) {
      throw new RpcError(Code.INTERNAL, "JWTSVID response has invalid issued_at/expires_at");
    }
    return svid;
  }

  private api() {
    if (!this.clients) {
      this.dialledWith = this.options.identity();
      const creds = serverCredentials(this.options.trustDomain, this.options.roots(), this.dialledWith);
      this.channel = new Channel(dialTarget(this.options.address), creds, channelOptions(this.options.trustDomain));
      this.clients = {
        agent: createClient(AgentService, this.channel),
        bundle: createClient(BundleService, this.channel),
        entry: createClient(EntryService, this.channel),
        svid: createClient(SVIDService, this.channel),
      };
    }
    return this.clients;
  }
}

/**
 * The server is identified by its SPIFFE ID, not by a host name, so the TLS
 * server name (SNI) is the trust domain rather than the dialled address
 * (Node refuses an IP address there).
 */
export function channelOptions(trustDomain: TrustDomain): Record<string, string | number> {
  return { "grpc.ssl_target_name_override": trustDomain.name, ...noChannelz };
}

/** SPIRE dials `dns:///<address>:<port>`; a Unix path is not a server address. */
export function dialTarget(address: string): string {
  return `dns:///${address}`;
}
