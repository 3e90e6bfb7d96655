/** DataStore checks: bundles (create, append, set, compare-and-set update, delete modes, prune) and federation relationships. */
import { DeleteBundleRequest_Mode as Mode } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { FederationRelationship } from "@signet/proto/spire/api/types/federationrelationship";
import { Code, expect, expectOk, expectRpcError } from "./assert.js";
import { bundle, certificate, collect, entry, expectEqual, id, jwtKey, now, sel } from "./datastore-fixtures.js";
import type { DataStoreCheck } from "./datastore-entries.js";

const x509 = (notAfter: bigint) => ({ asn1: certificate(notAfter), tainted: false });

export const bundleChecks: readonly DataStoreCheck[] = [
  [
    "CreateBundle stores a bundle as given; a second is ALREADY_EXISTS; FetchBundle of an unknown one is NOT_FOUND",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const b = bundle(td, { x509Authorities: [x509(now() + 3600n)], jwtAuthorities: [jwtKey("k1", now() + 60n)], refreshHint: 30n, sequenceNumber: 7n });
      expectEqual((await expectOk(ds.createBundle({ bundle: b }), "CreateBundle")).bundle, b, "CreateBundle result");
      expectEqual((await expectOk(ds.fetchBundle({ trustDomain: td }), "FetchBundle")).bundle, b, "FetchBundle");
      await expectRpcError(ds.createBundle({ bundle: b }), Code.ALREADY_EXISTS, "CreateBundle again");
      await expectRpcError(ds.fetchBundle({ trustDomain: `${ctx.unique("none")}.test` }), Code.NOT_FOUND, "FetchBundle of an unknown trust domain");
      await expectRpcError(ds.createBundle({ bundle: bundle("") }), Code.INVALID_ARGUMENT, "CreateBundle without a trust domain");
    },
  ],
  [
    "AppendBundle creates a missing bundle, adds only new authorities and raises sequence_number by 1 when it added any",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const a = x509(now() + 3600n);
      const b = x509(now() + 7200n);
      const first = (await expectOk(ds.appendBundle({ bundle: bundle(td, { x509Authorities: [a], sequenceNumber: 3n }) }), "AppendBundle(create)")).bundle!;
      expect(first.sequenceNumber === 3n && first.x509Authorities.length === 1, `a created bundle should be stored as given, got sequence ${first.sequenceNumber}`);
      const second = (await expectOk(ds.appendBundle({ bundle: bundle(td, { x509Authorities: [a, b], jwtAuthorities: [jwtKey("k", 0n)], sequenceNumber: 99n, refreshHint: 5n }) }), "AppendBundle")).bundle!;
      expect(second.x509Authorities.length === 2, `after appending one new certificate the bundle has ${second.x509Authorities.length}`);
      expect(second.jwtAuthorities.length === 1, "the new JWT key was not appended");
      expect(second.sequenceNumber === 4n, `sequence_number is ${second.sequenceNumber} after an append that added authorities; expected 4`);
      expect(second.refreshHint === 0n, "refresh_hint of the request was used although the bundle existed");
      const third = (await expectOk(ds.appendBundle({ bundle: bundle(td, { x509Authorities: [b], jwtAuthorities: [jwtKey("k", 5n)] }) }), "AppendBundle(no change)")).bundle!;
      expectEqual(third, second, "bundle after appending nothing new");
    },
  ],
  [
    "SetBundle creates or replaces a bundle entirely, sequence_number as given",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const one = bundle(td, { x509Authorities: [x509(now() + 100n)], sequenceNumber: 10n });
      expectEqual((await expectOk(ds.setBundle({ bundle: one }), "SetBundle(create)")).bundle, one, "SetBundle(create)");
      const two = bundle(td, { x509Authorities: [x509(now() + 200n)], sequenceNumber: 2n });
      await expectOk(ds.setBundle({ bundle: two }), "SetBundle(replace)");
      expectEqual((await ds.fetchBundle({ trustDomain: td })).bundle, two, "bundle after SetBundle");
    },
  ],
  [
    "UpdateBundle writes masked fields and honours if_sequence_number as compare-and-set (FAILED_PRECONDITION on mismatch)",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const orig = bundle(td, { x509Authorities: [x509(now() + 100n)], refreshHint: 1n, sequenceNumber: 5n });
      await ds.createBundle({ bundle: orig });
      const mask = { x509Authorities: false, jwtAuthorities: false, refreshHint: true, sequenceNumber: true, witAuthorities: false };
      const upd = (await expectOk(ds.updateBundle({ bundle: bundle(td, { refreshHint: 60n, sequenceNumber: 6n }), inputMask: mask, ifSequenceNumber: 5n }), "UpdateBundle")).bundle;
      expectEqual(upd, { ...orig, refreshHint: 60n, sequenceNumber: 6n }, "bundle after a masked compare-and-set update");
      await expectRpcError(ds.updateBundle({ bundle: bundle(td, { refreshHint: 1n, sequenceNumber: 7n }), inputMask: mask, ifSequenceNumber: 5n }), Code.FAILED_PRECONDITION, "UpdateBundle with a stale if_sequence_number");
      expectEqual((await ds.fetchBundle({ trustDomain: td })).bundle, upd, "bundle after a refused update");
      const full = bundle(td, { jwtAuthorities: [jwtKey("j", 0n)], sequenceNumber: 9n });
      expectEqual((await expectOk(ds.updateBundle({ bundle: full, inputMask: undefined }), "UpdateBundle without a mask")).bundle, full, "bundle after an update without a mask");
      await expectRpcError(ds.updateBundle({ bundle: bundle(`${ctx.unique("none")}.test`), inputMask: undefined }), Code.NOT_FOUND, "UpdateBundle of an unknown bundle");
    },
  ],
  [
    "DeleteBundle: RESTRICT refuses while entries federate with it, DELETE removes them, DISSOCIATE unlinks them and bumps their revision",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const mk = async (fed: string, path: string) => {
        await ds.setBundle({ bundle: bundle(fed, { x509Authorities: [x509(now() + 100n)] }) });
        const r = (await ds.createEntries({ entries: [entry({ spiffeId: id(td, path), parentId: id(td, "/a"), selectors: [sel("k", path)], federatesWith: [fed] })] })).results[0]!;
        expect(r.status?.code === 0, `create: ${r.status?.message}`);
        return r.entry!;
      };
      const restrict = `${ctx.unique("r")}.test`;
      const e1 = await mk(restrict, "/r");
      await expectRpcError(ds.deleteBundle({ trustDomain: restrict, mode: Mode.RESTRICT }), Code.FAILED_PRECONDITION, "DeleteBundle(RESTRICT) with a federated entry");
      await expectOk(ds.fetchBundle({ trustDomain: restrict }), "FetchBundle after a refused delete");
      const del = `${ctx.unique("d")}.test`;
      const e2 = await mk(del, "/d");
      await expectOk(ds.deleteBundle({ trustDomain: del, mode: Mode.DELETE }), "DeleteBundle(DELETE)");
      await expectRpcError(ds.fetchEntry({ id: e2.id }), Code.NOT_FOUND, "FetchEntry of an entry deleted with its bundle");
      await expectRpcError(ds.fetchBundle({ trustDomain: del }), Code.NOT_FOUND, "FetchBundle after delete");
      const dis = `${ctx.unique("x")}.test`;
      const e3 = await mk(dis, "/x");
      await expectOk(ds.deleteBundle({ trustDomain: dis, mode: Mode.DISSOCIATE }), "DeleteBundle(DISSOCIATE)");
      const after = (await ds.fetchEntry({ id: e3.id })).entry!;
      expectEqual(after.federatesWith, [], "federates_with after DISSOCIATE");
      expect(after.revisionNumber === e3.revisionNumber + 1n, `revision_number after DISSOCIATE is ${after.revisionNumber}; expected ${e3.revisionNumber + 1n}`);
      await expectRpcError(ds.deleteBundle({ trustDomain: dis, mode: Mode.RESTRICT }), Code.NOT_FOUND, "DeleteBundle of a deleted bundle");
      expect((await ds.fetchEntry({ id: e1.id })).entry?.federatesWith.length === 1, "RESTRICT changed the entry");
    },
  ],
  [
    "PruneBundle removes expired authorities, bumps sequence_number, and refuses to remove every X.509 authority",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const t = now();
      const expired = x509(t - 10n);
      const valid = x509(t + 3600n);
      const chained = { asn1: Buffer.concat([certificate(t + 3600n), certificate(t - 5n)]), tainted: false };
      await ds.createBundle({ bundle: bundle(td, { x509Authorities: [expired, valid, chained], jwtAuthorities: [jwtKey("old", t - 1n), jwtKey("forever", 0n), jwtKey("new", t + 100n)], sequenceNumber: 1n }) });
      await expectRpcError(ds.pruneBundle({ trustDomain: td, expiresBefore: 0n }), Code.INVALID_ARGUMENT, "PruneBundle with expires_before 0");
      const res = await expectOk(ds.pruneBundle({ trustDomain: td, expiresBefore: t }), "PruneBundle");
      expect(res.changed, "PruneBundle reported no change");
      expect(res.bundle?.x509Authorities.length === 1, `PruneBundle left ${res.bundle?.x509Authorities.length} X.509 authorities; expected 1 (a chain goes when any certificate in it expired)`);
      expectEqual(res.bundle?.jwtAuthorities.map((k) => k.keyId), ["forever", "new"], "JWT keys after pruning");
      expect(res.bundle?.sequenceNumber === 2n, `sequence_number after pruning is ${res.bundle?.sequenceNumber}; expected 2`);
      const same = await expectOk(ds.pruneBundle({ trustDomain: td, expiresBefore: t }), "PruneBundle (nothing to do)");
      expect(!same.changed && same.bundle?.sequenceNumber === 2n, "a prune that removed nothing reported a change");
      await expectRpcError(ds.pruneBundle({ trustDomain: td, expiresBefore: t + 7200n }), Code.FAILED_PRECONDITION, "PruneBundle that would remove every X.509 authority");
      expect((await ds.fetchBundle({ trustDomain: td })).bundle?.x509Authorities.length === 1, "a refused prune changed the bundle");
      await expectRpcError(ds.pruneBundle({ trustDomain: `${ctx.unique("none")}.test`, expiresBefore: t }), Code.NOT_FOUND, "PruneBundle of an unknown bundle");
    },
  ],
  [
    "ListBundles is ordered by trust domain and paged; CountBundles counts them",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      for (const td of ["c.test", "a.test", "b.test"]) await ds!.createBundle({ bundle: bundle(td, { x509Authorities: [x509(now() + 100n)] }) });
      expect((await ds!.countBundles({})).count === 3, "CountBundles is not 3");
      const all = await ds!.listBundles({ pageSize: 0, pageToken: "" });
      expectEqual(all.bundles.map((b) => b.trustDomain), ["a.test", "b.test", "c.test"], "ListBundles order");
      expect(all.nextPageToken === "", "page_size 0 must return everything with an empty next_page_token");
      const p1 = await ds!.listBundles({ pageSize: 2, pageToken: "" });
      const p2 = await ds!.listBundles({ pageSize: 2, pageToken: p1.nextPageToken });
      expectEqual([p1.bundles.map((b) => b.trustDomain), p2.bundles.map((b) => b.trustDomain), p2.nextPageToken], [["a.test", "b.test"], ["c.test"], ""], "pages");
      await expectRpcError(ds!.listBundles({ pageSize: 2, pageToken: "garbage!" }), Code.INVALID_ARGUMENT, "ListBundles with a made-up token");
    },
  ],
  [
    "Federation relationships: create (storing a given bundle), fetch with the bundle, list, masked update, delete keeping the bundle",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      const td = "fed.test";
      const b = bundle(td, { x509Authorities: [x509(now() + 100n)], sequenceNumber: 1n });
      const fr: FederationRelationship = {
        trustDomain: td,
        bundleEndpointUrl: "https://fed.test/bundle",
        bundleEndpointProfile: { $case: "httpsSpiffe", value: { endpointSpiffeId: "spiffe://fed.test/server" } },
        trustDomainBundle: b,
      };
      expectEqual((await expectOk(ds!.createFederationRelationship({ federationRelationship: fr }), "CreateFederationRelationship")).federationRelationship, fr, "created relationship");
      expectEqual((await ds!.fetchBundle({ trustDomain: td })).bundle, b, "bundle stored with the relationship");
      await expectRpcError(ds!.createFederationRelationship({ federationRelationship: fr }), Code.ALREADY_EXISTS, "CreateFederationRelationship again");
      const bad: Array<[string, FederationRelationship]> = [
        ["no URL", { ...fr, trustDomain: "x.test", bundleEndpointUrl: "" }],
        ["no profile", { ...fr, trustDomain: "x.test", bundleEndpointProfile: undefined }],
        ["https_spiffe without an endpoint ID", { ...fr, trustDomain: "x.test", bundleEndpointProfile: { $case: "httpsSpiffe", value: { endpointSpiffeId: "" } } }],
        ["no trust domain", { ...fr, trustDomain: "" }],
      ];
      for (const [what, r] of bad) await expectRpcError(ds!.createFederationRelationship({ federationRelationship: r }), Code.INVALID_ARGUMENT, `CreateFederationRelationship with ${what}`);
      const web: FederationRelationship = { trustDomain: "web.test", bundleEndpointUrl: "https://web.test/b", bundleEndpointProfile: { $case: "httpsWeb", value: {} }, trustDomainBundle: undefined };
      await expectOk(ds!.createFederationRelationship({ federationRelationship: web }), "CreateFederationRelationship(https_web)");
      const list = await ds!.listFederationRelationships({ pageSize: 1, pageToken: "" });
      const list2 = await ds!.listFederationRelationships({ pageSize: 1, pageToken: list.nextPageToken });
      expectEqual([...list.federationRelationships, ...list2.federationRelationships].map((r) => r.trustDomain), ["fed.test", "web.test"], "ListFederationRelationships");
      expect(list.federationRelationships[0]?.trustDomainBundle !== undefined, "a listed relationship lacks its trust domain's bundle");
      const upd = (await expectOk(ds!.updateFederationRelationship({ federationRelationship: { ...web, bundleEndpointUrl: "https://web.test/new", bundleEndpointProfile: undefined }, inputMask: { bundleEndpointUrl: true, bundleEndpointProfile: false, trustDomainBundle: false } }), "UpdateFederationRelationship")).federationRelationship;
      expectEqual(upd, { ...web, bundleEndpointUrl: "https://web.test/new" }, "relationship after a masked update");
      await expectRpcError(ds!.updateFederationRelationship({ federationRelationship: { ...web, trustDomain: "none.test" }, inputMask: undefined }), Code.NOT_FOUND, "UpdateFederationRelationship of an unknown relationship");
      await expectOk(ds!.deleteFederationRelationship({ trustDomain: td }), "DeleteFederationRelationship");
      await expectRpcError(ds!.fetchFederationRelationship({ trustDomain: td }), Code.NOT_FOUND, "FetchFederationRelationship after delete");
      await expectOk(ds!.fetchBundle({ trustDomain: td }), "FetchBundle after deleting the relationship (the bundle stays)");
      await expectRpcError(ds!.deleteFederationRelationship({ trustDomain: td }), Code.NOT_FOUND, "DeleteFederationRelationship again");
      void collect;
    },
  ],
];
