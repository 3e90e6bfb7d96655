/**
 * X509Source (go-spiffe's workloadapi.X509Source): the workload's current X509-SVID and X.509
 * bundles, kept up to date by a FetchX509SVID watch. create() returns once the first good
 * message has arrived.
 */
import type { TrustDomain } from "../id/index.js";
import type { X509Bundle, X509BundleSet, X509BundleSetSource } from "../x509bundle/index.js";
import type { X509Svid, X509SvidSource } from "../x509svid/index.js";
import type { X509Context } from "./responses.js";
import { SourceCore, type SourceOptions } from "./source-core.js";

export interface X509SourceOptions extends SourceOptions {
  /** Chooses the SVID getX509Svid() returns; default the first (the agent's default identity). */
  readonly picker?: (svids: readonly X509Svid[]) => X509Svid;
}

/** A source whose material changes over time; TLS helpers use it to swap contexts on rotation. */
export interface UpdatingSource {
  subscribe(listener: () => void): () => void;
}

export class X509Source implements X509SvidSource, X509BundleSetSource, UpdatingSource {
  private constructor(
    private readonly core: SourceCore<X509Context>,
    private readonly picker: (svids: readonly X509Svid[]) => X509Svid,
  ) {}

  static async create(options: X509SourceOptions = {}): Promise<X509Source> {
    const core = new SourceCore<X509Context>("x509source", options);
    const source = new X509Source(core, options.picker ?? ((svids) => svids[0] as X509Svid));
    await core.start((client, watcher, signal) => client.watchX509Context(watcher, signal));
    return source;
  }

  getX509Svid(): X509Svid {
    return this.picker(this.core.current().svids);
  }

  getX509Svids(): readonly X509Svid[] {
    return this.core.current().svids;
  }

  getX509Context(): X509Context {
    return this.core.current();
  }

  get bundles(): X509BundleSet {
    return this.core.current().bundles;
  }

  getX509BundleSet(): X509BundleSet {
    return this.core.current().bundles;
  }

  /** The bundle of `trustDomain`; throws BundleError when the agent sent none. */
  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle {
    return this.core.current().bundles.getX509BundleForTrustDomain(trustDomain);
  }

  /** `listener` runs after every update (rotation, bundle change); returns the unsubscribe function. */
  subscribe(listener: (context: X509Context) => void): () => void {
    return this.core.subscribe(listener);
  }

  close(): Promise<void> {
    return this.core.close();
  }
}
