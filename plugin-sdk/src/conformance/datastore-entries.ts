/** DataStore checks: registration entries (batches, validation, masks, filters, paging, pruning). */
import { EntryMask } from "@signet/proto/spire/api/types/entry";
import { SelectorMatch_MatchBehavior as Match } from "@signet/proto/spire/api/types/selector";
import { FederatesWithMatch_MatchBehavior as FedMatch } from "@signet/proto/spire/api/types/federateswith";
import { Code, expect, expectOk, expectRpcError } from "./assert.js";
import { type CheckContext, bundle, certificate, collect, entry, expectEqual, expectSameEntry, id, now, sel, show } from "./datastore-fixtures.js";

export type DataStoreCheck = readonly [name: string, run: (ctx: CheckContext) => Promise<void>];

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const entryChecks: readonly DataStoreCheck[] = [
  [
    "CreateEntries assigns a UUIDv4 id, revision 0 and created_at, and FetchEntry returns what was stored",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const want = entry({
        spiffeId: id(td, "/workload"),
        parentId: id(td, "/agent"),
        selectors: [sel("unix", "uid:1000"), sel("unix", "gid:1000")],
        x509SvidTtl: 3600,
        jwtSvidTtl: 300,
        admin: true,
        expiresAt: now() + 3600n,
        dnsNames: ["a.example", "b.example"],
        hint: "hint",
        revisionNumber: 42n,
        createdAt: 7n,
        additionalAttributes: { disableX509SvidPrefetch: true, jwtSvidIncludeJti: false },
      });
      const t0 = now();
      const res = await expectOk(ds.createEntries({ entries: [want] }), "CreateEntries");
      expect(res.results.length === 1, `CreateEntries answered ${res.results.length} results for 1 entry`);
      const r = res.results[0]!;
      expect(r.status?.code === 0, `CreateEntries failed: ${r.status?.message}`);
      const got = r.entry!;
      expect(uuidV4.test(got.id), `assigned id ${JSON.stringify(got.id)} is not a UUIDv4`);
      expect(got.revisionNumber === 0n, `revision_number is ${got.revisionNumber}; expected 0 whatever the request says`);
      expect(got.createdAt >= t0 - 5n && got.createdAt <= now() + 5n, `created_at ${got.createdAt} is not the current time`);
      expectSameEntry(got, want, "CreateEntries result");
      const fetched = await expectOk(ds.fetchEntry({ id: got.id }), "FetchEntry");
      expectEqual(fetched.entry, got, "FetchEntry after CreateEntries");
    },
  ],
  [
    "CreateEntries answers one status per item, in order, and a bad item does not stop the others",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const good = (p: string) => entry({ spiffeId: id(td, p), parentId: id(td, "/agent"), selectors: [sel("unix", "uid:1")] });
      const res = await expectOk(
        ds.createEntries({
          entries: [
            good("/one"),
            entry({ spiffeId: id(td, "/x"), parentId: id(td, "/agent"), selectors: [] }),
            { ...good("/y"), id: "bad id!" },
            { ...good("/z"), x509SvidTtl: -1 },
            { ...good("/w"), storeSvid: true, selectors: [sel("a", "1"), sel("b", "2")] },
            { ...good("/v"), spiffeId: undefined },
            { ...good("/u"), selectors: [sel("", "x")] },
            good("/two"),
          ],
        }),
        "CreateEntries",
      );
      const codes = res.results.map((r) => r.status?.code);
      const want = [Code.OK, Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.OK];
      expectEqual(codes, want, "per-item status codes");
      for (const r of res.results.slice(1, -1)) expect((r.status?.message ?? "") !== "", "a failed item has an empty status message");
      const stored = await collect(ds.listEntries({ filter: { bySpiffeId: undefined, byParentId: id(td, "/agent"), bySelectors: undefined, byFederatesWith: undefined }, page: undefined }));
      expectEqual(stored.flatMap((p) => p.entries.map((e) => e.spiffeId?.path)).sort(), ["/one", "/two"], "entries stored");
    },
  ],
  [
    "CreateEntries: a taken id or a similar entry (same IDs and selector set in any order) is ALREADY_EXISTS with the existing entry",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const e = entry({ id: ctx.unique("entry"), spiffeId: id(td, "/w"), parentId: id(td, "/a"), selectors: [sel("k", "1"), sel("k", "2")] });
      const first = await expectOk(ds.createEntries({ entries: [e] }), "CreateEntries");
      expect(first.results[0]?.status?.code === 0, `first create failed: ${first.results[0]?.status?.message}`);
      const again = await expectOk(
        ds.createEntries({
          entries: [
            { ...e, spiffeId: id(td, "/other") },
            { ...e, id: "", selectors: [sel("k", "2"), sel("k", "1")] },
            { ...e, id: "", selectors: [sel("k", "2")] },
          ],
        }),
        "CreateEntries",
      );
      expectEqual(again.results.map((r) => r.status?.code), [Code.ALREADY_EXISTS, Code.ALREADY_EXISTS, Code.OK], "status codes");
      expect(again.results[1]?.entry?.id === e.id, `a similar entry's result carries ${JSON.stringify(again.results[1]?.entry?.id)}; expected the existing entry ${e.id}`);
    },
  ],
  [
    "CreateEntries/UpdateEntries: federates_with needs a bundle for each trust domain (FAILED_PRECONDITION)",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const fed = `${ctx.unique("fed")}.test`;
      const e = entry({ spiffeId: id(td, "/w"), parentId: id(td, "/a"), selectors: [sel("k", "v")], federatesWith: [fed] });
      const res = await expectOk(ds.createEntries({ entries: [e] }), "CreateEntries");
      expect(res.results[0]?.status?.code === Code.FAILED_PRECONDITION, `federating with a trust domain without a bundle answered ${res.results[0]?.status?.code}; expected FAILED_PRECONDITION`);
      await expectOk(ds.createBundle({ bundle: bundle(fed, { x509Authorities: [{ asn1: certificate(now() + 86400n), tainted: false }] }) }), "CreateBundle");
      const ok = await expectOk(ds.createEntries({ entries: [e] }), "CreateEntries");
      expect(ok.results[0]?.status?.code === 0, `create with an existing bundle failed: ${ok.results[0]?.status?.message}`);
      expectEqual(ok.results[0]?.entry?.federatesWith, [fed], "federates_with");
      const upd = await expectOk(
        ds.updateEntries({ entries: [{ ...ok.results[0]!.entry!, federatesWith: [fed, `${ctx.unique("nobundle")}.test`] }], inputMask: undefined }),
        "UpdateEntries",
      );
      expect(upd.results[0]?.status?.code === Code.FAILED_PRECONDITION, `update federating with a trust domain without a bundle answered ${upd.results[0]?.status?.code}`);
    },
  ],
  [
    "UpdateEntries: a mask writes only its fields, no mask writes all; revision_number goes up by 1; id and created_at stay",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const created = (await ds.createEntries({ entries: [entry({ spiffeId: id(td, "/w"), parentId: id(td, "/a"), selectors: [sel("k", "v")], hint: "old", admin: true })] })).results[0]!.entry!;
      const mask = { ...EntryMask.fromPartial({}), hint: true };
      const changed = { ...created, hint: "new", admin: false, spiffeId: id(td, "/ignored"), revisionNumber: 100n, createdAt: 1n };
      const r1 = (await expectOk(ds.updateEntries({ entries: [changed], inputMask: mask }), "UpdateEntries")).results[0]!;
      expect(r1.status?.code === 0, `masked update failed: ${r1.status?.message}`);
      expectEqual({ ...created, hint: "new", revisionNumber: 1n }, r1.entry, "entry after a hint-only update");
      const all = { ...created, hint: "", admin: false, selectors: [sel("k", "v2")], dnsNames: ["x"], revisionNumber: 0n, createdAt: 1n };
      const r2 = (await expectOk(ds.updateEntries({ entries: [all], inputMask: undefined }), "UpdateEntries")).results[0]!;
      expect(r2.status?.code === 0, `full update failed: ${r2.status?.message}`);
      expectEqual(r2.entry, { ...all, revisionNumber: 2n, createdAt: created.createdAt }, "entry after a full update");
      expectEqual((await ds.fetchEntry({ id: created.id })).entry, r2.entry, "FetchEntry after updates");
      const r3 = (await expectOk(ds.updateEntries({ entries: [r2.entry!], inputMask: mask }), "UpdateEntries")).results[0]!;
      expect(r3.entry?.revisionNumber === 3n, `an update that changes nothing left revision_number at ${r3.entry?.revisionNumber}; expected 3`);
      const missing = await expectOk(ds.updateEntries({ entries: [{ ...all, id: ctx.unique("missing") }], inputMask: undefined }), "UpdateEntries");
      expect(missing.results[0]?.status?.code === Code.NOT_FOUND, `updating an unknown id answered ${missing.results[0]?.status?.code}; expected NOT_FOUND`);
      const bad = await expectOk(ds.updateEntries({ entries: [{ ...all, selectors: [] }], inputMask: { ...mask, hint: false, selectors: true } }), "UpdateEntries");
      expect(bad.results[0]?.status?.code === Code.INVALID_ARGUMENT, `clearing the selectors answered ${bad.results[0]?.status?.code}; expected INVALID_ARGUMENT`);
    },
  ],
  [
    "DeleteEntries returns each deleted entry; unknown ids are NOT_FOUND and empty ids INVALID_ARGUMENT, per item",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const created = (await ds.createEntries({ entries: [entry({ spiffeId: id(td, "/w"), parentId: id(td, "/a"), selectors: [sel("k", "v")] })] })).results[0]!.entry!;
      const res = await expectOk(ds.deleteEntries({ ids: [created.id, created.id, "", ctx.unique("nope")] }), "DeleteEntries");
      expectEqual(res.results.map((r) => r.status?.code), [Code.OK, Code.NOT_FOUND, Code.INVALID_ARGUMENT, Code.NOT_FOUND], "per-id status codes");
      expectEqual(res.results[0]?.entry, created, "deleted entry");
      expect(res.results[0]?.id === created.id, "a delete result does not carry its id");
      await expectRpcError(ds.fetchEntry({ id: created.id }), Code.NOT_FOUND, "FetchEntry of a deleted entry");
      const fetched = await expectOk(ds.fetchEntries({ ids: [created.id, ctx.unique("none")] }), "FetchEntries");
      expect(fetched.entries.length === 0, "FetchEntries returned entries that do not exist");
    },
  ],
  [
    "ListEntries and CountEntries filter by SPIFFE ID, parent ID, hint, downstream, selectors (exact, subset, superset, any) and federates_with",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const fed1 = `${ctx.unique("f1")}.test`;
      const fed2 = `${ctx.unique("f2")}.test`;
      for (const f of [fed1, fed2]) await ds.createBundle({ bundle: bundle(f, { x509Authorities: [{ asn1: certificate(now() + 86400n), tainted: false }] }) });
      const parent = id(td, "/parent");
      const specs = {
        ab: { selectors: [sel("t", "a"), sel("t", "b")], federatesWith: [fed1] },
        a: { selectors: [sel("t", "a")], hint: "h", federatesWith: [fed1, fed2] },
        abc: { selectors: [sel("t", "a"), sel("t", "b"), sel("t", "c")], downstream: true },
        c: { selectors: [sel("t", "c")], federatesWith: [fed2] },
      } as const;
      const ids: Record<string, string> = {};
      for (const [name, spec] of Object.entries(specs)) {
        const r = (await ds.createEntries({ entries: [entry({ spiffeId: id(td, `/${name}`), parentId: parent, ...spec, selectors: [...spec.selectors], federatesWith: "federatesWith" in spec ? [...spec.federatesWith] : [] })] })).results[0]!;
        expect(r.status?.code === 0, `create ${name}: ${r.status?.message}`);
        ids[r.entry!.id] = name;
      }
      const names = async (filter: Record<string, unknown>) => {
        const f = { bySpiffeId: undefined, byParentId: parent, bySelectors: undefined, byFederatesWith: undefined, ...filter };
        const pages = await collect(ds.listEntries({ filter: f, page: undefined }));
        const listed = pages.flatMap((p) => p.entries.map((e) => ids[e.id] ?? `foreign:${e.id}`)).sort();
        const count = (await ds.countEntries({ filter: f })).count;
        expect(count === listed.length, `CountEntries(${show(filter)}) = ${count} but ListEntries returned ${listed.length}`);
        return listed;
      };
      const s = (match: Match, ...values: string[]) => ({ bySelectors: { selectors: values.map((v) => sel("t", v)), match } });
      const f = (match: FedMatch, ...tds: string[]) => ({ byFederatesWith: { trustDomains: tds, match } });
      const cases: Array<[string, Record<string, unknown>, string[]]> = [
        ["parent only", {}, ["a", "ab", "abc", "c"]],
        ["by SPIFFE ID", { bySpiffeId: id(td, "/ab") }, ["ab"]],
        ["by hint", { byHint: "h" }, ["a"]],
        ["by empty hint", { byHint: "" }, ["ab", "abc", "c"]],
        ["by downstream", { byDownstream: true }, ["abc"]],
        ["selectors exact a,b", s(Match.MATCH_EXACT, "a", "b"), ["ab"]],
        ["selectors subset a,b", s(Match.MATCH_SUBSET, "a", "b"), ["a", "ab"]],
        ["selectors superset a,b", s(Match.MATCH_SUPERSET, "a", "b"), ["ab", "abc"]],
        ["selectors any b,c", s(Match.MATCH_ANY, "b", "c"), ["ab", "abc", "c"]],
        ["federates exact fed1", f(FedMatch.MATCH_EXACT, fed1), ["ab"]],
        ["federates subset fed1,fed2", f(FedMatch.MATCH_SUBSET, fed1, fed2), ["a", "ab", "c"]],
        ["federates superset fed1,fed2", f(FedMatch.MATCH_SUPERSET, fed1, fed2), ["a"]],
        ["federates any fed2", f(FedMatch.MATCH_ANY, fed2), ["a", "c"]],
      ];
      for (const [what, filter, want] of cases) expectEqual(await names(filter), want, `ListEntries ${what}`);
      await expectRpcError(collect(ds.listEntries({ filter: { bySpiffeId: undefined, byParentId: undefined, bySelectors: { selectors: [], match: Match.MATCH_ANY }, byFederatesWith: undefined }, page: undefined })), Code.INVALID_ARGUMENT, "ListEntries with an empty selector filter");
      await expectRpcError(ds.countEntries({ filter: { bySpiffeId: undefined, byParentId: undefined, bySelectors: undefined, byFederatesWith: { trustDomains: [], match: FedMatch.MATCH_ANY } } }), Code.INVALID_ARGUMENT, "CountEntries with an empty federates_with filter");
    },
  ],
  [
    "ListEntries without a filter gives every entry its own selectors and federates_with, page after page",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const fed = `${ctx.unique("f")}.test`;
      await ds.createBundle({ bundle: bundle(fed, { x509Authorities: [{ asn1: certificate(now() + 86400n), tainted: false }] }) });
      const want = new Map<string, string>();
      for (let i = 0; i < 7; i++) {
        const e = entry({
          id: `${ctx.unique("u")}-${i}`,
          spiffeId: id(td, `/w${i}`),
          parentId: id(td, "/parent"),
          selectors: Array.from({ length: 1 + (i % 3) }, (_, j) => sel(`t${j}`, `${i}`)),
          federatesWith: i % 2 ? [fed] : [],
        });
        const r = (await expectOk(ds.createEntries({ entries: [e] }), "CreateEntries")).results[0]!;
        want.set(r.entry!.id, show({ selectors: e.selectors, federatesWith: e.federatesWith }));
      }
      // Small pages, so page boundaries fall between these entries (and whatever else the store holds).
      const pages = await collect(ds.listEntries({ filter: undefined, page: { pageSize: 3, pageToken: "", maxPages: 0 } }));
      const got = new Map(pages.flatMap((p) => p.entries).filter((e) => want.has(e.id)).map((e) => [e.id, show({ selectors: e.selectors, federatesWith: e.federatesWith })]));
      expectEqual([...got.entries()].sort(), [...want.entries()].sort(), "each listed entry's selectors and federates_with");
    },
  ],
  [
    "ListEntries streams pages ordered by id with resumable page tokens, honours max_pages, and refuses foreign tokens",
    async (ctx) => {
      const ds = await ctx.shared();
      const td = `${ctx.unique("td")}.test`;
      const parent = id(td, "/parent");
      const created: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = (await ds.createEntries({ entries: [entry({ id: `${ctx.unique("p")}-${i}`, spiffeId: id(td, `/w${i}`), parentId: parent, selectors: [sel("k", `${i}`)] })] })).results[0]!;
        created.push(r.entry!.id);
      }
      created.sort();
      const filter = { bySpiffeId: undefined, byParentId: parent, bySelectors: undefined, byFederatesWith: undefined };
      const pages = await collect(ds.listEntries({ filter, page: { pageSize: 2, pageToken: "", maxPages: 0 } }));
      expectEqual(pages.map((p) => p.entries.length), [2, 2, 1], "page sizes for 5 entries with page_size 2");
      expectEqual(pages.flatMap((p) => p.entries.map((e) => e.id)), created, "ids across pages, in order");
      expect(pages[0]!.nextPageToken !== "" && pages[1]!.nextPageToken !== "", "a page before the last has an empty next_page_token");
      expect(pages[2]!.nextPageToken === "", "the last page has a next_page_token");
      const one = await collect(ds.listEntries({ filter, page: { pageSize: 2, pageToken: "", maxPages: 1 } }));
      expect(one.length === 1, `max_pages 1 streamed ${one.length} pages`);
      const rest = await collect(ds.listEntries({ filter, page: { pageSize: 2, pageToken: one[0]!.nextPageToken, maxPages: 0 } }));
      expectEqual(rest.flatMap((p) => p.entries.map((e) => e.id)), created.slice(2), "entries after resuming from a page token");
      const empty = await collect(ds.listEntries({ filter: { ...filter, byParentId: id(td, "/nobody") }, page: undefined }));
      expect(empty.length === 1 && empty[0]!.entries.length === 0 && empty[0]!.nextPageToken === "", `an empty result must be one empty page, got ${empty.length} pages`);
      await expectRpcError(collect(ds.listEntries({ filter, page: { pageSize: 2, pageToken: "not a token", maxPages: 0 } })), Code.INVALID_ARGUMENT, "ListEntries with a made-up page token");
      const nodeToken = (await collect(ds.listAttestedNodes({ filter: undefined, page: { pageSize: 1, pageToken: "", maxPages: 1 }, fetchSelectors: false })))[0]?.nextPageToken;
      if (nodeToken) await expectRpcError(collect(ds.listEntries({ filter, page: { pageSize: 2, pageToken: nodeToken, maxPages: 0 } })), Code.INVALID_ARGUMENT, "ListEntries with a ListAttestedNodes page token");
    },
  ],
  [
    "PruneEntries deletes entries with 0 < expires_at < expires_before only",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      const td = `${ctx.unique("td")}.test`;
      const mk = (p: string, expiresAt: bigint) => entry({ spiffeId: id(td, p), parentId: id(td, "/a"), selectors: [sel("k", p)], expiresAt });
      const t = now();
      await ds!.createEntries({ entries: [mk("/never", 0n), mk("/old", t - 100n), mk("/edge", t), mk("/later", t + 100n)] });
      const res = await expectOk(ds!.pruneEntries({ expiresBefore: t }), "PruneEntries");
      expect(res.count === 1, `PruneEntries deleted ${res.count}; expected 1`);
      const left = (await collect(ds!.listEntries({ filter: undefined, page: undefined }))).flatMap((p) => p.entries.map((e) => e.spiffeId?.path)).sort();
      expectEqual(left, ["/edge", "/later", "/never"], "entries left after pruning");
    },
  ],
  [
    "FetchEntry of an unknown id is NOT_FOUND and of an empty id INVALID_ARGUMENT",
    async (ctx) => {
      const ds = await ctx.shared();
      await expectRpcError(ds.fetchEntry({ id: ctx.unique("nope") }), Code.NOT_FOUND, "FetchEntry(unknown)");
      await expectRpcError(ds.fetchEntry({ id: "" }), Code.INVALID_ARGUMENT, "FetchEntry(\"\")");
    },
  ],
];
