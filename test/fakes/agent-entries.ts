/**
 * Registration entries as the agent receives them (the fields a stock
 * agent's sync mask keeps), for agent cache and manager tests.
 */
import type { Entry } from "@signet/proto/spire/api/types/entry";

export interface WorkloadEntryOptions {
  readonly id?: string;
  readonly path?: string;
  /** "type:value" strings; default `unix:uid:<n>`. */
  readonly selectors?: readonly string[];
  readonly revision?: bigint;
  readonly createdAt?: bigint;
  readonly hint?: string;
  readonly federatesWith?: readonly string[];
}

/** Entry `n` of trust domain example.org: id `entry-<n padded>`, SPIFFE ID `/workload/<n>`. */
export function workloadEntry(n: number, options: WorkloadEntryOptions = {}): Entry {
  const selectors = options.selectors ?? [`unix:uid:${n}`];
  return {
    id: options.id ?? `entry-${String(n).padStart(5, "0")}`,
    spiffeId: { trustDomain: "example.org", path: options.path ?? `/workload/${n}` },
    parentId: undefined,
    selectors: selectors.map((s) => {
      const i = s.indexOf(":");
      return { type: s.slice(0, i), value: s.slice(i + 1) };
    }),
    x509SvidTtl: 0,
    federatesWith: [...(options.federatesWith ?? [])],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: options.revision ?? 0n,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: options.hint ?? "",
    createdAt: options.createdAt ?? 1_700_000_000n,
  };
}

/** Entries `from` … `to - 1`. */
export function workloadEntries(from: number, to: number): Entry[] {
  return Array.from({ length: to - from }, (_, k) => workloadEntry(from + k));
}

/** Selector objects from "type:value" strings, as a workload attestor reports them. */
export function selectors(...specs: string[]): { type: string; value: string }[] {
  return specs.map((s) => {
    const i = s.indexOf(":");
    return { type: s.slice(0, i), value: s.slice(i + 1) };
  });
}
