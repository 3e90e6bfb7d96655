import { X509Certificate } from "node:crypto";
import { Code, isRpcError } from "@signet/proto";
import type { TrustDomain } from "@signet/spiffe";
import type { DataStore } from "../datastore/datastore.js";

/** X.509 roots by trust domain, for verifying callers' SVIDs. */
export interface X509BundleSource {
  /**
   * The trust domain's X.509 authorities, or undefined when it has no
   * bundle. The same array comes back while the bundle is unchanged, so
   * callers may cache work keyed on it.
   */
  x509Authorities(trustDomain: TrustDomain): Promise<readonly X509Certificate[] | undefined>;
}

/** SPIRE's endpoints bundle cache: datastore bundles, re-read at most once a second per trust domain. */
export class DataStoreBundleCache implements X509BundleSource {
  private readonly entries = new Map<string, { readonly at: number; readonly key: string; readonly roots: readonly X509Certificate[] | undefined }>();
  private readonly inflight = new Map<string, Promise<readonly X509Certificate[] | undefined>>();

  constructor(
    private readonly dataStore: Pick<DataStore, "fetchBundle">,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = 1000,
  ) {}

  async x509Authorities(trustDomain: TrustDomain): Promise<readonly X509Certificate[] | undefined> {
    const name = trustDomain.name;
    const cached = this.entries.get(name);
    if (cached && this.now() - cached.at < this.maxAgeMs) return cached.roots;
    let pending = this.inflight.get(name);
    if (!pending) {
      pending = this.refresh(name).finally(() => this.inflight.delete(name));
      this.inflight.set(name, pending);
    }
    return pending;
  }

  private async refresh(name: string): Promise<readonly X509Certificate[] | undefined> {
    let ders: Buffer[] | undefined;
    try {
      const res = await this.dataStore.fetchBundle({ trustDomain: name });
      ders = (res.bundle?.x509Authorities ?? []).map((a) => Buffer.from(a.asn1));
    } catch (err) {
      if (!(isRpcError(err) && err.code === Code.NOT_FOUND)) throw err;
    }
    const key = ders ? ders.map((d) => d.toString("base64")).join(",") : "";
    const previous = this.entries.get(name);
    const roots = previous && previous.key === key && ders ? previous.roots : ders?.map((d) => new X509Certificate(d));
    this.entries.set(name, { at: this.now(), key, roots });
    return roots;
  }
}
