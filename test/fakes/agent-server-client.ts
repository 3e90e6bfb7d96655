/**
 * The agent's view of the server (host/agent/src/client/client.ts
 * ServerClient) held in memory: the authorized entries and bundles a test
 * sets, X509-SVIDs signed from the agent's CSRs and JWT-SVIDs minted by a
 * real TestAuthority at the test clock's time, per-item refusals, and
 * failures queued per method. It records what each call carried so tests
 * can check batch sizes and what was asked for.
 */
import type { Clock } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { JWTSVID } from "@signet/proto/spire/api/types/jwtsvid";
import type { X509SVID } from "@signet/proto/spire/api/types/x509svid";
import type { ServerClient, X509SvidResult } from "../../host/agent/src/client/client.js";
import type { TestAuthority } from "./agent-pki.js";

/** The ServerClient methods the agent's loops call. */
export type ServerClientApi = Pick<
  ServerClient,
  "syncAuthorizedEntries" | "getBundle" | "getFederatedBundle" | "newX509Svids" | "newJwtSvid" | "renewAgent" | "postStatus" | "release"
>;

type Method = keyof ServerClientApi;

export class FakeServerClient implements ServerClientApi {
  /** The entries authorized for the agent, as the server's cache holds them. */
  entries: Entry[] = [];
  /** Signs X509-SVIDs and JWT-SVIDs; swap it to model a CA rotation. */
  authority: TestAuthority;
  /** What GetBundle answers (defaults to the authority's bundle). */
  bundle: Bundle;
  /** Trust domain name → what GetFederatedBundle answers; others are NotFound. */
  readonly federated = new Map<string, Bundle>();
  x509SvidTtlSeconds = 3600;
  jwtSvidTtlSeconds = 300;
  agentSpiffeId = "spiffe://example.org/spire/agent/join_token/test";
  /** Entry id → per-item status BatchNewX509SVID answers instead of an SVID. */
  readonly refused = new Map<string, { code: number; message: string }>();

  /** What the calls carried, in order. */
  readonly calls = {
    /** Clock times (ms) of SyncAuthorizedEntries calls, failed ones included. */
    sync: [] as number[],
    getBundle: 0,
    getFederatedBundle: [] as string[],
    /** Entry ids of each BatchNewX509SVID call, failed ones included. */
    newX509Svids: [] as string[][],
    newJwtSvid: [] as { entryId: string; audience: string[] }[],
    renewAgent: 0,
    postStatus: [] as string[],
    release: 0,
  };

  private readonly failures = new Map<Method, (Error | undefined)[]>();
  private readonly always = new Map<Method, Error>();

  constructor(
    authority: TestAuthority,
    private readonly clock: Clock,
  ) {
    this.authority = authority;
    this.bundle = authority.bundle();
  }

  /** The next `times` calls of `method` throw `error` (after `after` more calls succeed). */
  failNext(method: Method, error: Error = new RpcError(Code.UNAVAILABLE, "connection refused"), times = 1, after = 0): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < after; i++) queue.push(undefined);
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(method, queue);
  }

  /** Every later call of `method` throws `error` until `clearFailures`. */
  failAlways(method: Method, error: Error = new RpcError(Code.UNAVAILABLE, "connection refused")): void {
    this.always.set(method, error);
  }

  clearFailures(method?: Method): void {
    if (method) {
      this.failures.delete(method);
      this.always.delete(method);
    } else {
      this.failures.clear();
      this.always.clear();
    }
  }

  /**
   * This double where a ServerClient is expected. ServerClient is a class
   * with private members, so a structural stand-in needs this one cast;
   * `implements ServerClientApi` keeps every method the agent calls checked.
   */
  asServerClient(): ServerClient {
    return this as unknown as ServerClient;
  }

  release(): void {
    this.calls.release++;
  }

  async postStatus(agentVersion: string): Promise<void> {
    await this.io();
    this.calls.postStatus.push(agentVersion);
    this.maybeFail("postStatus");
  }

  async renewAgent(csr: Buffer): Promise<X509SVID> {
    await this.io();
    this.calls.renewAgent++;
    this.maybeFail("renewAgent");
    const leaf = this.authority.signCsr(csr, this.agentSpiffeId, this.clock.now(), this.x509SvidTtlSeconds);
    return this.x509Svid(leaf, this.agentSpiffeId, "");
  }

  /**
   * The authorized entries as the real client's sync leaves them: an entry
   * whose revision and created_at are unchanged is the cached object.
   */
  async syncAuthorizedEntries(cached: ReadonlyMap<string, Entry>): Promise<Entry[]> {
    await this.io();
    this.calls.sync.push(this.clock.now().getTime());
    this.maybeFail("syncAuthorizedEntries");
    return this.entries.map((e) => {
      const have = cached.get(e.id);
      return have && have.revisionNumber === e.revisionNumber && have.createdAt === e.createdAt ? have : e;
    });
  }

  async getBundle(): Promise<Bundle> {
    await this.io();
    this.calls.getBundle++;
    this.maybeFail("getBundle");
    return this.bundle;
  }

  async getFederatedBundle(trustDomain: string): Promise<Bundle> {
    await this.io();
    this.calls.getFederatedBundle.push(trustDomain);
    this.maybeFail("getFederatedBundle");
    const b = this.federated.get(trustDomain);
    if (!b) throw new RpcError(Code.NOT_FOUND, "bundle not found");
    return b;
  }

  async newX509Svids(params: readonly { entryId: string; csr: Buffer }[]): Promise<X509SvidResult[]> {
    await this.io();
    this.calls.newX509Svids.push(params.map((p) => p.entryId));
    this.maybeFail("newX509Svids");
    const byId = new Map(this.entries.map((e) => [e.id, e]));
    return params.map(({ entryId, csr }) => {
      const refusal = this.refused.get(entryId);
      if (refusal) return { entryId, error: refusal };
      const entry = byId.get(entryId);
      if (!entry?.spiffeId) return { entryId, error: { code: Code.NOT_FOUND, message: "entry not found or not authorized" } };
      const id = `spiffe://${entry.spiffeId.trustDomain}${entry.spiffeId.path}`;
      const leaf = this.authority.signCsr(csr, id, this.clock.now(), this.x509SvidTtlSeconds);
      return { entryId, svid: this.x509Svid(leaf, id, entry.hint) };
    });
  }

  async newJwtSvid(entryId: string, audience: readonly string[]): Promise<JWTSVID> {
    await this.io();
    this.calls.newJwtSvid.push({ entryId, audience: [...audience] });
    this.maybeFail("newJwtSvid");
    const entry = this.entries.find((e) => e.id === entryId);
    if (!entry?.spiffeId) throw new RpcError(Code.NOT_FOUND, "entry not found or not authorized");
    const id = `spiffe://${entry.spiffeId.trustDomain}${entry.spiffeId.path}`;
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const exp = iat + this.jwtSvidTtlSeconds;
    return { token: this.authority.jwt(id, audience, iat, exp), id: entry.spiffeId, issuedAt: BigInt(iat), expiresAt: BigInt(exp), hint: entry.hint };
  }

  private x509Svid(leaf: Buffer, id: string, hint: string): X509SVID {
    const url = new URL(id);
    return { certChain: [leaf], id: { trustDomain: url.host, path: url.pathname }, expiresAt: 0n, hint };
  }

  /** A network call yields to the event loop; so does this double, so a loop that never sleeps cannot starve the test. */
  private io(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  private maybeFail(method: Method): void {
    const queue = this.failures.get(method);
    const error = queue?.shift() ?? this.always.get(method);
    if (error) throw error;
  }
}
