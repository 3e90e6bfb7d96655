/**
 * The Workload API service over a real gRPC server and a real AgentCache:
 * the security header on every method, FetchX509SVID's messages and when
 * they are sent, and the WIT profile SPIRE does not serve
 * (spiffe-standards.md 5.2, 5.4-5.6).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { Metadata } from "@grpc/grpc-js";
import { Code, RpcError } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { X509SVIDResponse } from "@signet/proto/workload/workload";
import { parseCertificates } from "@signet/spiffe";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { selectors, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import {
  type AgentWorkloadApi,
  StreamReader,
  startAgentWorkloadApi,
  workloadHeader,
  x509SvidRecord,
} from "../../../../test/fakes/agent-workload-api.js";

const now = new Date();
const ca = new TestAuthority("example.org", now);
/** A second CA of the same trust domain (a CA rotation: both are trusted). */
const nextCa = new TestAuthority("example.org", now);
const federated = new TestAuthority("federated.test", now);
const other = new TestAuthority("other.test", now);
const third = new TestAuthority("third.test", now);

const caller = selectors("unix:uid:1000", "unix:gid:1000");

let api: AgentWorkloadApi;
let calls: AbortController;

beforeEach(async () => {
  api = await startAgentWorkloadApi();
  api.attest = { selectors: caller };
  calls = new AbortController();
  api.cache.setBundles(ca.bundle(), new Map());
});
afterEach(async () => {
  calls.abort();
  await api.close();
});

const options = (metadata = workloadHeader()) => ({ metadata, signal: calls.signal });
const fetchX509Svid = () => new StreamReader(api.client.fetchX509Svid({}, options()));
const ids = (msg: X509SVIDResponse) => msg.svids.map((s) => s.spiffeId);
const rejection = (code: Code, message: string) => expect.objectContaining({ code, message });
const subscribed = (n = 1) => vi.waitFor(() => expect(api.cache.subscriberCount).toBe(n));
const derOf = (b: Bundle) => Buffer.concat(b.x509Authorities.map((a) => a.asn1));
const spki = (key: KeyObject) => (key.type === "private" ? createPublicKey(key) : key).export({ type: "spki", format: "der" });

describe("security header", () => {
  const header = "workload.spiffe.io";
  const bad: [string, () => Metadata][] = [
    ["missing", () => new Metadata()],
    ["not true", () => withValues("false")],
    ["True in another case", () => withValues("TRUE")],
    ["given twice", () => withValues("true", "true")],
  ];
  function withValues(...values: string[]): Metadata {
    const md = new Metadata();
    for (const v of values) md.add(header, v);
    return md;
  }

  // Every call would succeed with the header: the caller has an identity and a valid token to check.
  const methods: [string, (md: Metadata) => Promise<unknown>][] = [
    ["FetchX509SVID", (md) => new StreamReader(api.client.fetchX509Svid({}, options(md))).next()],
    ["FetchX509Bundles", (md) => new StreamReader(api.client.fetchX509Bundles({}, options(md))).next()],
    ["FetchJWTBundles", (md) => new StreamReader(api.client.fetchJwtBundles({}, options(md))).next()],
    ["FetchJWTSVID", (md) => api.client.fetchJwtsvid({ audience: ["spiffe://example.org/db"], spiffeId: "" }, options(md))],
    [
      "ValidateJWTSVID",
      (md) => {
        const t = Math.floor(Date.now() / 1000);
        const token = ca.jwt("spiffe://example.org/workload/1", ["spiffe://example.org/db"], t, t + 300);
        return api.client.validateJwtsvid({ audience: "spiffe://example.org/db", svid: token }, options(md));
      },
    ],
  ];

  beforeEach(() => {
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    api.cache.setEntries([entry]);
    api.cache.putSvids([x509SvidRecord(ca, entry)]);
    api.fetchJwtSvid = async (e, audience) => {
      const t = Math.floor(Date.now() / 1000);
      return ca.jwt(`spiffe://example.org${e.spiffeId!.path}`, audience, t, t + 300);
    };
  });

  describe.each(methods)("%s", (_name, call) => {
    it("succeeds with exactly one value `true`", async () => {
      await expect(call(workloadHeader())).resolves.toBeDefined();
    });

    it.each(bad)("is refused with InvalidArgument before attestation when the header is %s", async (_what, metadata) => {
      await expect(call(metadata())).rejects.toEqual(rejection(Code.INVALID_ARGUMENT, "security header missing from request"));
      expect(api.attestCalls).toBe(0);
    });
  });
});

describe("FetchX509SVID", () => {
  it("sends every identity of the caller ordered by entry id, each with the own-trust-domain bundle, its PKCS#8 key and hint", async () => {
    const own: Bundle = { ...ca.bundle(), x509Authorities: [{ asn1: ca.der, tainted: false }, { asn1: nextCa.der, tainted: false }] };
    api.cache.setBundles(own, new Map());
    const e1 = workloadEntry(1, { selectors: ["unix:uid:1000", "unix:gid:1000"], hint: "internal" });
    const e2 = workloadEntry(2, { selectors: ["unix:uid:1000"] });
    const e3 = workloadEntry(3, { selectors: ["unix:gid:1000"], hint: "external" });
    const notMine = workloadEntry(4, { selectors: ["unix:uid:1000", "unix:gid:2000"] });
    api.cache.setEntries([e3, notMine, e1, e2]);
    const records = [x509SvidRecord(ca, e3), x509SvidRecord(ca, notMine), x509SvidRecord(ca, e1, { intermediates: [nextCa.der] }), x509SvidRecord(ca, e2)];
    api.cache.putSvids(records);

    const msg = await fetchX509Svid().next();

    expect(ids(msg)).toEqual(["spiffe://example.org/workload/1", "spiffe://example.org/workload/2", "spiffe://example.org/workload/3"]);
    expect(msg.svids.map((s) => s.hint)).toEqual(["internal", "", "external"]);
    for (const svid of msg.svids) {
      const record = records.find((r) => r.spiffeId === svid.spiffeId)!;
      expect(svid.x509Svid).toEqual(Buffer.concat(record.chain));
      expect(svid.bundle).toEqual(Buffer.concat([ca.der, nextCa.der]));
      const leaf = parseCertificates(svid.x509Svid)[0]!;
      expect(leaf.checkIssued(parseCertificates(ca.der)[0]!)).toBe(true);
      const key = createPrivateKey({ key: svid.x509SvidKey, format: "der", type: "pkcs8" });
      expect(spki(key)).toEqual(spki(leaf.publicKey));
    }
    expect(parseCertificates(msg.svids[0]!.x509Svid)).toHaveLength(2);
    expect(msg.crl).toEqual([]);
    expect(msg.federatedBundles).toEqual({});
  });

  it("adds the bundles of the union of the identities' federates_with, and no others", async () => {
    api.cache.setBundles(
      ca.bundle(),
      new Map([
        ["federated.test", federated.bundle()],
        ["other.test", other.bundle()],
        ["third.test", third.bundle()],
      ]),
    );
    const e1 = workloadEntry(1, { selectors: ["unix:uid:1000"], federatesWith: ["federated.test", "unknown.test"] });
    const e2 = workloadEntry(2, { selectors: ["unix:uid:1000"], federatesWith: ["other.test", "federated.test"] });
    const notMine = workloadEntry(3, { selectors: ["unix:uid:3000"], federatesWith: ["third.test"] });
    api.cache.setEntries([e1, e2, notMine]);
    api.cache.putSvids([e1, e2, notMine].map((e) => x509SvidRecord(ca, e)));

    const msg = await fetchX509Svid().next();

    expect(msg.federatedBundles).toEqual({ "spiffe://federated.test": federated.der, "spiffe://other.test": other.der });
    for (const svid of msg.svids) expect(svid.bundle).toEqual(ca.der);
  });

  it("waits for an SVID that is not minted yet and sends once the cache gets it", async () => {
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    api.cache.setEntries([entry]);
    const stream = fetchX509Svid();
    await subscribed();
    expect(await stream.quietFor(150)).toBe(true);
    expect(api.cache.takeWanted()).toEqual([entry.id]);

    const record = x509SvidRecord(ca, entry);
    api.cache.putSvids([record]);

    const msg = await stream.next();
    expect(ids(msg)).toEqual(["spiffe://example.org/workload/1"]);
    expect(msg.svids[0]!.x509Svid).toEqual(record.chain[0]);
  });

  it("sends the complete state again when one of the caller's SVIDs rotates", async () => {
    const e1 = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    const e2 = workloadEntry(2, { selectors: ["unix:gid:1000"] });
    api.cache.setEntries([e1, e2]);
    const first = [x509SvidRecord(ca, e1), x509SvidRecord(ca, e2)];
    api.cache.putSvids(first);
    const stream = fetchX509Svid();
    await stream.next();

    const rotated = x509SvidRecord(ca, e2);
    api.cache.putSvids([rotated]);

    const msg = await stream.next();
    expect(msg.svids.map((s) => s.x509Svid)).toEqual([first[0]!.chain[0], rotated.chain[0]]);
    expect(msg.svids[1]!.x509SvidKey).toEqual(rotated.keyDer);
    expect(msg.svids[1]!.x509SvidKey).not.toEqual(first[1]!.keyDer);
  });

  it("sends a new message when the own bundle or a federated bundle the caller sees changes", async () => {
    api.cache.setBundles(ca.bundle(), new Map([["federated.test", federated.bundle()]]));
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"], federatesWith: ["federated.test"] });
    api.cache.setEntries([entry]);
    api.cache.putSvids([x509SvidRecord(ca, entry)]);
    const stream = fetchX509Svid();
    expect((await stream.next()).svids[0]!.bundle).toEqual(ca.der);

    const own: Bundle = { ...ca.bundle({ sequenceNumber: 2n }), x509Authorities: [{ asn1: ca.der, tainted: false }, { asn1: nextCa.der, tainted: false }] };
    api.cache.setBundles(own, new Map([["federated.test", federated.bundle()]]));
    const afterOwn = await stream.next();
    expect(afterOwn.svids[0]!.bundle).toEqual(derOf(own));
    expect(afterOwn.federatedBundles).toEqual({ "spiffe://federated.test": federated.der });

    const nextFederated = new TestAuthority("federated.test", now);
    const fed: Bundle = { ...federated.bundle({ sequenceNumber: 2n }), x509Authorities: [{ asn1: federated.der, tainted: false }, { asn1: nextFederated.der, tainted: false }] };
    api.cache.setBundles(own, new Map([["federated.test", fed]]));
    const afterFederated = await stream.next();
    expect(afterFederated.federatedBundles).toEqual({ "spiffe://federated.test": derOf(fed) });
    expect(afterFederated.svids[0]!.bundle).toEqual(derOf(own));
  });

  it("sends nothing when an SVID the caller does not hold rotates", async () => {
    const mine = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    const notMine = workloadEntry(2, { selectors: ["unix:uid:2000"] });
    api.cache.setEntries([mine, notMine]);
    api.cache.putSvids([x509SvidRecord(ca, mine), x509SvidRecord(ca, notMine)]);
    const stream = fetchX509Svid();
    await stream.next();

    api.cache.putSvids([x509SvidRecord(ca, notMine)]);
    expect(await stream.quietFor(150)).toBe(true);

    // The next message is the caller's own rotation, not a repeat of the first.
    const rotated = x509SvidRecord(ca, mine);
    api.cache.putSvids([rotated]);
    expect((await stream.next()).svids[0]!.x509Svid).toEqual(rotated.chain[0]);
  });

  it("ends with PermissionDenied when nothing matches the caller", async () => {
    api.cache.setEntries([workloadEntry(1, { selectors: ["unix:uid:2000"] })]);
    await expect(fetchX509Svid().next()).rejects.toEqual(rejection(Code.PERMISSION_DENIED, "no identity issued"));
  });

  it("ends with PermissionDenied when the caller's identities go away mid-stream", async () => {
    const mine = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    const notMine = workloadEntry(2, { selectors: ["unix:uid:2000"] });
    api.cache.setEntries([mine, notMine]);
    api.cache.putSvids([x509SvidRecord(ca, mine), x509SvidRecord(ca, notMine)]);
    const stream = fetchX509Svid();
    expect(ids(await stream.next())).toEqual(["spiffe://example.org/workload/1"]);

    api.cache.setEntries([notMine]);

    await expect(stream.next()).rejects.toEqual(rejection(Code.PERMISSION_DENIED, "no identity issued"));
    await subscribed(0);
  });

  it("drops an identity whose entry is deleted and keeps streaming the others", async () => {
    const e1 = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    const e2 = workloadEntry(2, { selectors: ["unix:uid:1000"] });
    api.cache.setEntries([e1, e2]);
    api.cache.putSvids([x509SvidRecord(ca, e1), x509SvidRecord(ca, e2)]);
    const stream = fetchX509Svid();
    expect(ids(await stream.next())).toHaveLength(2);

    api.cache.setEntries([e2]);

    expect(ids(await stream.next())).toEqual(["spiffe://example.org/workload/2"]);
  });

  it("keeps a duplicated hint on the oldest entry (ties: lowest entry id) and every identity without a hint", async () => {
    const entries = [
      workloadEntry(1, { selectors: ["unix:uid:1000"], hint: "internal", createdAt: 2000n }),
      workloadEntry(2, { selectors: ["unix:uid:1000"], hint: "internal", createdAt: 1000n }),
      workloadEntry(3, { selectors: ["unix:uid:1000"], hint: "internal", createdAt: 1000n }),
      workloadEntry(4, { selectors: ["unix:uid:1000"], hint: "" }),
      workloadEntry(5, { selectors: ["unix:uid:1000"], hint: "" }),
      workloadEntry(6, { selectors: ["unix:uid:1000"], hint: "external", createdAt: 3000n }),
    ];
    api.cache.setEntries(entries);
    api.cache.putSvids(entries.map((e) => x509SvidRecord(ca, e)));

    const msg = await fetchX509Svid().next();

    expect(ids(msg)).toEqual([2, 4, 5, 6].map((n) => `spiffe://example.org/workload/${n}`));
    expect(msg.svids.map((s) => s.hint)).toEqual(["internal", "", "", "external"]);
  });

  it("ends with the attestor's status when the caller cannot be attested", async () => {
    api.attest = { error: new RpcError(Code.UNAVAILABLE, "workload attestation failed") };
    await expect(fetchX509Svid().next()).rejects.toEqual(rejection(Code.UNAVAILABLE, "workload attestation failed"));
    expect(api.cache.subscriberCount).toBe(0);
  });

  it("unsubscribes from the cache when the client cancels", async () => {
    const entry = workloadEntry(1, { selectors: ["unix:uid:1000"] });
    api.cache.setEntries([entry]);
    api.cache.putSvids([x509SvidRecord(ca, entry)]);
    const stream = fetchX509Svid();
    await stream.next();
    expect(api.cache.subscriberCount).toBe(1);

    calls.abort();

    await subscribed(0);
  });
});

describe("WIT-SVID profile", () => {
  it("answers FetchWITSVID and FetchWITBundles with Unimplemented", async () => {
    await expect(new StreamReader(api.client.fetchWitsvid({ spiffeId: "" }, options())).next()).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
    await expect(new StreamReader(api.client.fetchWitBundles({}, options())).next()).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
  });
});
