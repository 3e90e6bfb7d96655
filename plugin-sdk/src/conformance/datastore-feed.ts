/** DataStore checks: the change feed (events per write, order, resume, kinds, frontier, pruning, several instances). */
import { type Event, Event_Kind as Kind, Event_Op as Op } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { Code, expect, expectOk, expectRpcError } from "./assert.js";
import { bundle, certificate, describeEvent, entry, expectEqual, id, now, readEvents, sel } from "./datastore-fixtures.js";
import type { DataStoreCheck } from "./datastore-entries.js";

const short = (e: Event) => `${Kind[e.kind]}/${Op[e.op]} ${e.key?.value ?? "?"}`;

function expectIncreasing(events: readonly Event[], what: string): void {
  for (let i = 1; i < events.length; i++) {
    expect(events[i]!.eventId > events[i - 1]!.eventId, `${what}: event ${describeEvent(events[i]!)} follows ${describeEvent(events[i - 1]!)}; ids must strictly increase`);
  }
}

export const feedChecks: readonly DataStoreCheck[] = [
  [
    "Every write appends its events in order (replayed from cursor 0); no-op writes, join tokens and CA journals append none",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      expect((await ds!.getLatestEventId({})).eventId === 0n, "GetLatestEventId of an empty database is not 0");
      const t = now();
      const e = (await ds!.createEntries({ entries: [entry({ id: "e1", spiffeId: id("td.test", "/w"), parentId: id("td.test", "/a"), selectors: [sel("k", "v")] })] })).results[0]!.entry!;
      await ds!.updateEntries({ entries: [{ ...e, hint: "x" }], inputMask: undefined });
      await ds!.createAttestedNode({ node: { spiffeId: "spiffe://td.test/agent", attestationDataType: "t", certSerialNumber: "1", certNotAfter: t + 100n, newCertSerialNumber: "", newCertNotAfter: 0n, selectors: [], canReattest: false, agentVersion: "" } });
      await ds!.setNodeSelectors({ spiffeId: "spiffe://td.test/agent", selectors: [sel("a", "b")] });
      const cert = certificate(t + 100n);
      await ds!.appendBundle({ bundle: bundle("td.test", { x509Authorities: [{ asn1: cert, tainted: false }] }) });
      await ds!.appendBundle({ bundle: bundle("td.test", { x509Authorities: [{ asn1: cert, tainted: false }] }) }); // nothing new
      await ds!.createJoinToken({ token: { value: "tok", expiresAt: t + 100n } });
      await ds!.setCaJournal({ caJournal: { id: 0n, activeX509AuthorityId: "a", data: Buffer.from("j"), expiresAt: t } });
      await ds!.pruneEntries({ expiresBefore: t }); // prunes nothing
      await ds!.deleteAttestedNode({ spiffeId: "spiffe://td.test/agent" });
      await ds!.deleteEntries({ ids: ["e1"] });
      const want = [
        "ENTRY/CREATED e1",
        "ENTRY/UPDATED e1",
        "ATTESTED_NODE/CREATED spiffe://td.test/agent",
        "NODE_SELECTORS/UPDATED spiffe://td.test/agent",
        "BUNDLE/CREATED td.test",
        "ATTESTED_NODE/DELETED spiffe://td.test/agent",
        "NODE_SELECTORS/DELETED spiffe://td.test/agent",
        "ENTRY/DELETED e1",
      ];
      const events = await readEvents(ds!, 0n, want.length, 10_000);
      expectEqual(events.map(short), want, "events replayed from 0");
      expectIncreasing(events, "replay");
      for (const ev of events) expect(ev.createdAt >= t - 5n && ev.createdAt <= now() + 5n, `event ${describeEvent(ev)} has created_at ${ev.createdAt}, not the time of the write`);
      const extra = await readEvents(ds!, events[events.length - 1]!.eventId, 1, 500);
      expect(extra.length === 0, `a write that changed nothing, a join token or a CA journal appended ${extra.map(short).join(", ")}`);
      const latest = await ds!.getLatestEventId({});
      expect(latest.eventId === events[events.length - 1]!.eventId, `GetLatestEventId answered ${latest.eventId}; the last event is ${events[events.length - 1]!.eventId}`);
    },
  ],
  [
    "StreamEvents resumes after a cursor, filters by kind, and delivers live events after the replay",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      const mk = (n: number) => entry({ id: `e${n}`, spiffeId: id("td.test", `/w${n}`), parentId: id("td.test", "/a"), selectors: [sel("k", `${n}`)] });
      await ds!.createEntries({ entries: [mk(1), mk(2)] });
      await ds!.setNodeSelectors({ spiffeId: "spiffe://td.test/agent", selectors: [] });
      await ds!.createEntries({ entries: [mk(3)] });
      const all = await readEvents(ds!, 0n, 4);
      const resumed = await readEvents(ds!, all[1]!.eventId, 2);
      expectEqual(resumed.map(short), all.slice(2).map(short), "events after resuming from the second event's id");
      const onlyEntries = await readEvents(ds!, 0n, 3, 10_000, [Kind.ENTRY]);
      expectEqual(onlyEntries.map(short), ["ENTRY/CREATED e1", "ENTRY/CREATED e2", "ENTRY/CREATED e3"], "events filtered to ENTRY");
      const cursor = all[3]!.eventId;
      const live = readEvents(ds!, cursor, 2, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      await ds!.createEntries({ entries: [mk(4)] });
      await ds!.deleteEntries({ ids: ["e4"] });
      expectEqual((await live).map(short), ["ENTRY/CREATED e4", "ENTRY/DELETED e4"], "live events on an open stream");
    },
  ],
  [
    "DeleteBundle appends the entry events before BUNDLE/DELETED; a federation relationship with a bundle appends both",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      await ds!.createBundle({ bundle: bundle("fed.test", { x509Authorities: [{ asn1: certificate(now() + 100n), tainted: false }] }) });
      await ds!.createEntries({ entries: [entry({ id: "e1", spiffeId: id("td.test", "/w"), parentId: id("td.test", "/a"), selectors: [sel("k", "v")], federatesWith: ["fed.test"] })] });
      const start = (await ds!.getLatestEventId({})).eventId;
      await ds!.deleteBundle({ trustDomain: "fed.test", mode: 2 });
      await ds!.createFederationRelationship({
        federationRelationship: { trustDomain: "x.test", bundleEndpointUrl: "https://x.test", bundleEndpointProfile: { $case: "httpsWeb", value: {} }, trustDomainBundle: bundle("x.test", { x509Authorities: [{ asn1: certificate(now() + 100n), tainted: false }] }) },
      });
      const events = await readEvents(ds!, start, 4);
      expectEqual(events.map(short), ["ENTRY/UPDATED e1", "BUNDLE/DELETED fed.test", "BUNDLE/CREATED x.test", "FEDERATION_RELATIONSHIP/CREATED x.test"], "events");
    },
  ],
  [
    "PruneEvents raises the horizon; cursors below it (and cursor 0) fail with FAILED_PRECONDITION, later ones resume",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      await ds!.createEntries({ entries: [entry({ id: "e1", spiffeId: id("td.test", "/w"), parentId: id("td.test", "/a"), selectors: [sel("k", "v")] })] });
      await ds!.deleteEntries({ ids: ["e1"] });
      await expectRpcError(ds!.pruneEvents({ olderThanSeconds: 0n }), Code.INVALID_ARGUMENT, "PruneEvents(0)");
      const nothing = await expectOk(ds!.pruneEvents({ olderThanSeconds: 3600n }), "PruneEvents(1h)");
      expect(nothing.prunedThroughEventId === 0n, `PruneEvents pruned events younger than an hour (horizon ${nothing.prunedThroughEventId})`);
      await new Promise((r) => setTimeout(r, 2_100));
      const latest = (await ds!.getLatestEventId({})).eventId;
      const res = await expectOk(ds!.pruneEvents({ olderThanSeconds: 1n }), "PruneEvents(1s)");
      expect(res.prunedThroughEventId === latest, `horizon after pruning everything older than 1 s is ${res.prunedThroughEventId}; expected ${latest}`);
      expect((await ds!.getLatestEventId({})).prunedThroughEventId === latest, "GetLatestEventId does not report the pruning horizon");
      await expectRpcError(readEvents(ds!, 0n, 1, 5_000), Code.FAILED_PRECONDITION, "StreamEvents from 0 after pruning");
      await expectRpcError(readEvents(ds!, latest - 1n, 1, 5_000), Code.FAILED_PRECONDITION, "StreamEvents from below the horizon");
      const live = readEvents(ds!, latest, 1, 10_000);
      await ds!.createEntries({ entries: [entry({ id: "e2", spiffeId: id("td.test", "/w"), parentId: id("td.test", "/a"), selectors: [sel("k", "v")] })] });
      expectEqual((await live).map(short), ["ENTRY/CREATED e2"], "events after resuming at the horizon");
    },
  ],
  [
    "Two instances on one database see each other's writes and events; a cursor beyond every written id is FAILED_PRECONDITION",
    async (ctx) => {
      const [a, b] = await ctx.fresh(2);
      const liveOnB = readEvents(b!, 0n, 3, 15_000);
      await new Promise((r) => setTimeout(r, 200));
      await a!.createEntries({ entries: [entry({ id: "from-a", spiffeId: id("td.test", "/a"), parentId: id("td.test", "/p"), selectors: [sel("k", "a")] })] });
      await b!.createEntries({ entries: [entry({ id: "from-b", spiffeId: id("td.test", "/b"), parentId: id("td.test", "/p"), selectors: [sel("k", "b")] })] });
      await a!.createEntries({ entries: [entry({ id: "from-a2", spiffeId: id("td.test", "/a2"), parentId: id("td.test", "/p"), selectors: [sel("k", "a2")] })] });
      const seen = await liveOnB;
      expectEqual(seen.map(short), ["ENTRY/CREATED from-a", "ENTRY/CREATED from-b", "ENTRY/CREATED from-a2"], "events seen by instance B");
      expectIncreasing(seen, "events seen by instance B");
      expect((await b!.fetchEntry({ id: "from-a" })).entry?.id === "from-a", "instance B cannot read what A wrote");
      const latestA = (await a!.getLatestEventId({})).eventId;
      expect(latestA === seen[2]!.eventId, `instance A's frontier ${latestA} is not the last event ${seen[2]!.eventId}`);
      await expectRpcError(readEvents(a!, latestA + 1000n, 1, 5_000), Code.FAILED_PRECONDITION, "StreamEvents after an id the database never wrote");
    },
  ],
];
