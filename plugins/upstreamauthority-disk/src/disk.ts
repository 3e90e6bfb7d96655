/**
 * SPIRE's disk UpstreamAuthority: every mint reads the CA files again, so an
 * operator can rotate the upstream CA by replacing them, and a rotation in
 * progress (half-written files, a key not yet matching its certificate)
 * falls back to the last CA that loaded, as SPIRE does. Pure of gRPC: errors
 * are PluginErrors that the edge (index.ts) maps to status codes.
 */
import { PluginError } from "@signet/plugin-sdk";
import type { TrustDomain } from "@signet/spiffe";
import type { DiskConfig } from "./config.js";
import { type UpstreamCa, loadUpstreamCa, signCaCsr } from "./upstream-ca.js";

export interface MintedCa {
  readonly x509CaChain: Buffer[];
  readonly upstreamX509Roots: Buffer[];
}

export class DiskUpstreamAuthority {
  constructor(
    readonly config: DiskConfig,
    readonly trustDomain: TrustDomain,
    private ca: UpstreamCa,
    private readonly onReloadFailure: (error: Error) => void = () => {},
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Loads the files once (Configure refuses what does not load). */
  static async load(config: DiskConfig, trustDomain: TrustDomain, onReloadFailure?: (error: Error) => void, clock?: () => Date): Promise<DiskUpstreamAuthority> {
    const now = clock?.() ?? new Date();
    return new DiskUpstreamAuthority(config, trustDomain, await loadUpstreamCa(config, now), onReloadFailure, clock);
  }

  async mintX509Ca(csrDer: Buffer, preferredTtlSeconds: number): Promise<MintedCa> {
    if (csrDer.length === 0) throw new PluginError("invalid-argument", "CSR is required");
    if (preferredTtlSeconds < 0) throw new PluginError("invalid-argument", `preferred TTL ${preferredTtlSeconds} is negative`);
    const ca = await this.reload();
    const chain = signCaCsr(ca, this.trustDomain, csrDer, preferredTtlSeconds, this.clock());
    return { x509CaChain: chain, upstreamX509Roots: [...ca.roots] };
  }

  private async reload(): Promise<UpstreamCa> {
    try {
      this.ca = await loadUpstreamCa(this.config, this.clock());
    } catch (e) {
      this.onReloadFailure(e as Error);
    }
    return this.ca;
  }
}
