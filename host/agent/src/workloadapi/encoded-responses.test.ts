import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { X509SVIDResponse } from "@signet/proto/workload/workload";
import { describe, expect, it } from "vitest";
import { workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { x509SvidRecord } from "../../../../test/fakes/agent-workload-api.js";
import type { WorkloadUpdate } from "../manager/cache.js";
import { encodeOnce, SharedJwtResponses, SharedResponses } from "./encoded-responses.js";
import { x509SvidResponse } from "./responses.js";

const ca = new TestAuthority("example.org", new Date());
const entry = workloadEntry(1);
const other = workloadEntry(2);
const sameState = (a: WorkloadUpdate, b: WorkloadUpdate) =>
  a.bundle === b.bundle && a.identities.length === b.identities.length && a.identities.every((x, i) => x.svid === b.identities[i]!.svid && x.entry === b.identities[i]!.entry);

function state(identities: WorkloadUpdate["identities"], bundle: Bundle): WorkloadUpdate {
  return { identities, bundle, federatedBundles: new Map(), pending: 0 };
}

describe("SharedResponses", () => {
  const svid = x509SvidRecord(ca, entry);
  const bundle = ca.bundle();

  it("gives callers in a state made of the same objects the same response, built once", () => {
    let built = 0;
    const shared = new SharedResponses((s) => (built++, x509SvidResponse(s)), sameState);
    const a = shared.for(state([{ entry, svid }], bundle));
    const b = shared.for(state([{ entry, svid }], bundle));
    expect(b).toBe(a);
    expect(built).toBe(1);
    expect(a.svids[0]!.spiffeId).toBe("spiffe://example.org/workload/1");
  });

  it("builds a new response when an SVID, an entry or the bundle is another object", () => {
    const shared = new SharedResponses(x509SvidResponse, sameState);
    const first = shared.for(state([{ entry, svid }], bundle));
    const rotated = x509SvidRecord(ca, entry);
    const afterRotation = shared.for(state([{ entry, svid: rotated }], bundle));
    expect(afterRotation).not.toBe(first);
    expect(afterRotation.svids[0]!.x509Svid).toEqual(Buffer.concat(rotated.chain as Buffer[]));
    const newBundle = ca.bundle();
    expect(shared.for(state([{ entry, svid }], newBundle))).not.toBe(first);
    const changedEntry = { ...entry, hint: "changed" };
    const withHint = shared.for(state([{ entry: changedEntry, svid }], bundle));
    expect(withHint).not.toBe(first);
    expect(withHint.svids[0]!.hint).toBe("changed");
    // Another workload sharing the first SVID but entitled to more.
    const more = shared.for(state([{ entry, svid }, { entry: other, svid: x509SvidRecord(ca, other) }], bundle));
    expect(more.svids.map((s) => s.spiffeId)).toEqual(["spiffe://example.org/workload/1", "spiffe://example.org/workload/2"]);
    expect(shared.for(state([{ entry, svid }], bundle))).toBe(first);
  });

  it("keeps a bounded number of responses per SVID", () => {
    let built = 0;
    const shared = new SharedResponses((s) => (built++, x509SvidResponse(s)), sameState);
    const bundles = Array.from({ length: 9 }, () => ca.bundle());
    for (const b of bundles) shared.for(state([{ entry, svid }], b));
    expect(built).toBe(9);
    shared.for(state([{ entry, svid }], bundles[8]!));
    expect(built).toBe(9);
    // The oldest was let go.
    shared.for(state([{ entry, svid }], bundles[0]!));
    expect(built).toBe(10);
  });
});

describe("encodeOnce", () => {
  it("encodes each object once and answers the same bytes for it", () => {
    let encoded = 0;
    const serialize = encodeOnce((v: X509SVIDResponse) => (encoded++, Buffer.from(X509SVIDResponse.encode(v).finish())));
    const a = x509SvidResponse(state([{ entry, svid: x509SvidRecord(ca, entry) }], ca.bundle()));
    const bytes = serialize(a);
    expect(serialize(a)).toBe(bytes);
    expect(encoded).toBe(1);
    expect(X509SVIDResponse.decode(bytes)).toEqual(a);
    const b = { ...a, svids: [] };
    expect(X509SVIDResponse.decode(serialize(b)).svids).toEqual([]);
    expect(encoded).toBe(2);
  });
});

describe("SharedJwtResponses", () => {
  const a = { spiffeId: "spiffe://example.org/a", svid: "h.p.s1", hint: "" };
  const b = { spiffeId: "spiffe://example.org/b", svid: "h.p.s2", hint: "db" };

  it("answers the same tokens, IDs and hints in the same order with the same response", () => {
    const shared = new SharedJwtResponses();
    const first = shared.for([a, b]);
    expect(first.svids).toEqual([a, b]);
    expect(shared.for([{ ...a }, { ...b }])).toBe(first);
    expect(shared.for([b, a])).not.toBe(first);
    expect(shared.for([a])).not.toBe(first);
  });

  it("never answers another SPIFFE ID or hint than asked, even for the same token", () => {
    const shared = new SharedJwtResponses();
    const first = shared.for([a]);
    const otherHint = shared.for([{ ...a, hint: "other" }]);
    expect(otherHint).not.toBe(first);
    expect(otherHint.svids[0]!.hint).toBe("other");
    const otherId = shared.for([{ ...a, spiffeId: "spiffe://example.org/c" }]);
    expect(otherId.svids[0]!.spiffeId).toBe("spiffe://example.org/c");
  });

  it("keeps at most `limit` answers, dropping the oldest", () => {
    const shared = new SharedJwtResponses(2);
    const x = shared.for([{ ...a, svid: "t.o.1" }]);
    const y = shared.for([{ ...a, svid: "t.o.2" }]);
    shared.for([{ ...a, svid: "t.o.3" }]);
    expect(shared.for([{ ...a, svid: "t.o.2" }])).toBe(y);
    expect(shared.for([{ ...a, svid: "t.o.1" }])).not.toBe(x);
  });
});
