/** DataStore checks: attested nodes, node selectors, join tokens and CA journals. */
import type { AttestedNode } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import { SelectorMatch_MatchBehavior as Match } from "@signet/proto/spire/api/types/selector";
import { Code, expect, expectOk, expectRpcError } from "./assert.js";
import { collect, expectEqual, now, sel, show } from "./datastore-fixtures.js";
import type { DataStoreCheck } from "./datastore-entries.js";

function node(spiffeId: string, fields: Partial<AttestedNode> = {}): AttestedNode {
  return {
    spiffeId,
    attestationDataType: "join_token",
    certSerialNumber: "1234",
    certNotAfter: now() + 3600n,
    newCertSerialNumber: "",
    newCertNotAfter: 0n,
    selectors: [],
    canReattest: false,
    agentVersion: "1.0.0",
    ...fields,
  };
}

const noMask = {
  attestationDataType: false,
  certSerialNumber: false,
  certNotAfter: false,
  newCertSerialNumber: false,
  newCertNotAfter: false,
  canReattest: false,
  agentVersion: false,
};

export const nodeChecks: readonly DataStoreCheck[] = [
  [
    "CreateAttestedNode stores a node (request selectors ignored); duplicates are ALREADY_EXISTS, a missing ID INVALID_ARGUMENT",
    async (ctx) => {
      const ds = await ctx.shared();
      const agent = `spiffe://${ctx.unique("td")}.test/spire/agent/join_token/x`;
      const n = node(agent, { selectors: [sel("ignored", "yes")], canReattest: true });
      const created = await expectOk(ds.createAttestedNode({ node: n }), "CreateAttestedNode");
      expectEqual(created.node, { ...n, selectors: [] }, "CreateAttestedNode result");
      expectEqual((await expectOk(ds.fetchAttestedNode({ spiffeId: agent }), "FetchAttestedNode")).node, { ...n, selectors: [] }, "FetchAttestedNode");
      await expectRpcError(ds.createAttestedNode({ node: n }), Code.ALREADY_EXISTS, "CreateAttestedNode of an existing ID");
      await expectRpcError(ds.createAttestedNode({ node: node("") }), Code.INVALID_ARGUMENT, "CreateAttestedNode without an ID");
      await expectRpcError(ds.fetchAttestedNode({ spiffeId: `${agent}-nope` }), Code.NOT_FOUND, "FetchAttestedNode of an unknown ID");
    },
  ],
  [
    "UpdateAttestedNode writes the masked fields (all without a mask); banning clears both serials; unknown is NOT_FOUND",
    async (ctx) => {
      const ds = await ctx.shared();
      const agent = `spiffe://${ctx.unique("td")}.test/spire/agent/x`;
      const n = node(agent);
      await ds.createAttestedNode({ node: n });
      const renewed = await expectOk(
        ds.updateAttestedNode({ node: node(agent, { newCertSerialNumber: "5678", newCertNotAfter: 99n, agentVersion: "ignored" }), inputMask: { ...noMask, newCertSerialNumber: true, newCertNotAfter: true } }),
        "UpdateAttestedNode",
      );
      expectEqual(renewed.node, { ...n, newCertSerialNumber: "5678", newCertNotAfter: 99n }, "node after a masked update");
      const banned = await expectOk(ds.updateAttestedNode({ node: node(agent, { certSerialNumber: "", newCertSerialNumber: "" }), inputMask: { ...noMask, certSerialNumber: true, newCertSerialNumber: true } }), "UpdateAttestedNode (ban)");
      expect(banned.node?.certSerialNumber === "" && banned.node.newCertSerialNumber === "", "banning did not clear the serial numbers");
      const full = node(agent, { attestationDataType: "x509pop", certSerialNumber: "9", certNotAfter: 5n, canReattest: true, agentVersion: "2.0" });
      const replaced = await expectOk(ds.updateAttestedNode({ node: full, inputMask: undefined }), "UpdateAttestedNode without a mask");
      expectEqual(replaced.node, full, "node after an update without a mask");
      await expectRpcError(ds.updateAttestedNode({ node: node(`${agent}-nope`), inputMask: undefined }), Code.NOT_FOUND, "UpdateAttestedNode of an unknown node");
    },
  ],
  [
    "SetNodeSelectors replaces (and with [] clears) an agent's selectors, before or after the node exists; Fetch includes them",
    async (ctx) => {
      const ds = await ctx.shared();
      const agent = `spiffe://${ctx.unique("td")}.test/spire/agent/x`;
      expectEqual((await expectOk(ds.getNodeSelectors({ spiffeId: agent }), "GetNodeSelectors")).selectors, [], "selectors of an unknown agent");
      await expectOk(ds.setNodeSelectors({ spiffeId: agent, selectors: [sel("a", "1"), sel("b", "2")] }), "SetNodeSelectors before the node exists");
      await ds.createAttestedNode({ node: node(agent) });
      await expectOk(ds.setNodeSelectors({ spiffeId: agent, selectors: [sel("c", "3"), sel("a", "1")] }), "SetNodeSelectors");
      const got = (await ds.getNodeSelectors({ spiffeId: agent })).selectors;
      expectEqual([...got].sort((x, y) => x.type.localeCompare(y.type)), [sel("a", "1"), sel("c", "3")], "selectors after replacing");
      const fetched = (await ds.fetchAttestedNodes({ spiffeIds: [agent, `${agent}-none`] })).nodes;
      expect(fetched.length === 1 && fetched[0]!.selectors.length === 2, "FetchAttestedNodes did not return the node with its 2 selectors (unknown IDs must be left out)");
      await ds.setNodeSelectors({ spiffeId: agent, selectors: [] });
      expectEqual((await ds.getNodeSelectors({ spiffeId: agent })).selectors, [], "selectors after clearing");
      await expectRpcError(ds.setNodeSelectors({ spiffeId: agent, selectors: [sel("", "x")] }), Code.INVALID_ARGUMENT, "SetNodeSelectors with an empty type");
    },
  ],
  [
    "ListAttestedNodes and CountAttestedNodes filter by attestation type, banned, expiry, can_reattest and node selectors",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      const t = now();
      const nodes: Record<string, AttestedNode> = {
        a: node("spiffe://td.test/agent/a", { attestationDataType: "x509pop", canReattest: true, certNotAfter: t - 10n }),
        b: node("spiffe://td.test/agent/b", { certSerialNumber: "" }),
        c: node("spiffe://td.test/agent/c", { attestationDataType: "x509pop", certNotAfter: t + 1000n }),
      };
      for (const n of Object.values(nodes)) await ds!.createAttestedNode({ node: n });
      await ds!.setNodeSelectors({ spiffeId: nodes.a!.spiffeId, selectors: [sel("r", "1"), sel("r", "2")] });
      await ds!.setNodeSelectors({ spiffeId: nodes.c!.spiffeId, selectors: [sel("r", "2")] });
      const names = async (filter: Record<string, unknown>) => {
        const f = { bySelectorMatch: undefined, ...filter };
        const listed = (await collect(ds!.listAttestedNodes({ filter: f, page: { pageSize: 1, pageToken: "", maxPages: 0 }, fetchSelectors: true })))
          .flatMap((p) => p.nodes.map((n) => n.spiffeId.slice(-1)));
        const count = (await ds!.countAttestedNodes({ filter: f })).count;
        expect(count === listed.length, `CountAttestedNodes(${show(filter)}) = ${count} but the list had ${listed.length}`);
        return listed;
      };
      const cases: Array<[string, Record<string, unknown>, string[]]> = [
        ["no filter (ordered by SPIFFE ID)", {}, ["a", "b", "c"]],
        ["attestation type", { byAttestationType: "x509pop" }, ["a", "c"]],
        ["banned", { byBanned: true }, ["b"]],
        ["not banned", { byBanned: false }, ["a", "c"]],
        ["expires before", { byExpiresBefore: t }, ["a"]],
        ["can re-attest", { byCanReattest: true }, ["a"]],
        ["selector superset r:2", { bySelectorMatch: { selectors: [sel("r", "2")], match: Match.MATCH_SUPERSET } }, ["a", "c"]],
        ["selector exact r:2", { bySelectorMatch: { selectors: [sel("r", "2")], match: Match.MATCH_EXACT } }, ["c"]],
        ["selector subset r:1", { bySelectorMatch: { selectors: [sel("r", "1")], match: Match.MATCH_SUBSET } }, []],
        ["selector any r:1", { bySelectorMatch: { selectors: [sel("r", "1")], match: Match.MATCH_ANY } }, ["a"]],
      ];
      for (const [what, filter, want] of cases) expectEqual(await names(filter), want, `ListAttestedNodes ${what}`);
      // Unfiltered, one node per page: each page's selectors must be that node's own.
      const withSel = await collect(ds!.listAttestedNodes({ filter: undefined, page: { pageSize: 1, pageToken: "", maxPages: 0 }, fetchSelectors: true }));
      const selectorsOf = (spiffeId: string) => withSel.flatMap((p) => p.nodes).find((n) => n.spiffeId === spiffeId)?.selectors.map((s) => `${s.type}:${s.value}`);
      expectEqual(
        [selectorsOf(nodes.a!.spiffeId), selectorsOf(nodes.b!.spiffeId), selectorsOf(nodes.c!.spiffeId)],
        [["r:1", "r:2"], [], ["r:2"]],
        "selectors of each node listed without a filter, with fetch_selectors",
      );
    },
  ],
  [
    "DeleteAttestedNode returns the node with its selectors and deletes both; PruneAttestedNodes spares non-reattestable nodes unless asked",
    async (ctx) => {
      const [ds] = await ctx.fresh();
      const t = now();
      const a = node("spiffe://td.test/agent/a", { certNotAfter: t - 10n, canReattest: true });
      const b = node("spiffe://td.test/agent/b", { certNotAfter: t - 10n });
      const c = node("spiffe://td.test/agent/c", { certNotAfter: t + 100n, canReattest: true });
      const d = node("spiffe://td.test/agent/d");
      for (const n of [a, b, c, d]) await ds!.createAttestedNode({ node: n });
      await ds!.setNodeSelectors({ spiffeId: d.spiffeId, selectors: [sel("s", "1")] });
      const deleted = await expectOk(ds!.deleteAttestedNode({ spiffeId: d.spiffeId }), "DeleteAttestedNode");
      expectEqual(deleted.node, { ...d, selectors: [sel("s", "1")] }, "deleted node");
      expectEqual((await ds!.getNodeSelectors({ spiffeId: d.spiffeId })).selectors, [], "selectors of a deleted node");
      await expectRpcError(ds!.deleteAttestedNode({ spiffeId: d.spiffeId }), Code.NOT_FOUND, "DeleteAttestedNode again");
      const p1 = await expectOk(ds!.pruneAttestedNodes({ expiredBefore: t, includeNonReattestable: false }), "PruneAttestedNodes");
      expect(p1.count === 1, `PruneAttestedNodes pruned ${p1.count}; expected only the re-attestable expired node`);
      const p2 = await expectOk(ds!.pruneAttestedNodes({ expiredBefore: t, includeNonReattestable: true }), "PruneAttestedNodes(include_non_reattestable)");
      expect(p2.count === 1, `PruneAttestedNodes with include_non_reattestable pruned ${p2.count}; expected 1`);
      expectEqual((await ds!.countAttestedNodes({ filter: undefined })).count, 1, "nodes left");
    },
  ],
  [
    "Join tokens: create, fetch without consuming, single-use delete under a race, validation, pruning",
    async (ctx) => {
      const ds = await ctx.shared();
      const value = ctx.unique("token");
      const t = now();
      await expectOk(ds.createJoinToken({ token: { value, expiresAt: t + 600n } }), "CreateJoinToken");
      await expectRpcError(ds.createJoinToken({ token: { value, expiresAt: t + 600n } }), Code.ALREADY_EXISTS, "CreateJoinToken of a taken value");
      await expectRpcError(ds.createJoinToken({ token: { value: "", expiresAt: t } }), Code.INVALID_ARGUMENT, "CreateJoinToken without a value");
      await expectRpcError(ds.createJoinToken({ token: { value: ctx.unique("t"), expiresAt: 0n } }), Code.INVALID_ARGUMENT, "CreateJoinToken without an expiry");
      expectEqual((await ds.fetchJoinToken({ value })).token, { value, expiresAt: t + 600n }, "FetchJoinToken");
      expectEqual((await ds.fetchJoinToken({ value })).token, { value, expiresAt: t + 600n }, "FetchJoinToken again (fetch must not consume)");
      const racers = await Promise.allSettled(Array.from({ length: 5 }, () => ds.deleteJoinToken({ value })));
      const winners = racers.filter((r) => r.status === "fulfilled");
      expect(winners.length === 1, `${winners.length} of 5 concurrent DeleteJoinToken calls succeeded; exactly one may claim a token`);
      for (const r of racers) {
        if (r.status === "rejected") expect((r.reason as { code?: number }).code === Code.NOT_FOUND, `a losing DeleteJoinToken failed with ${(r.reason as Error).message}; expected NOT_FOUND`);
      }
      await expectRpcError(ds.fetchJoinToken({ value }), Code.NOT_FOUND, "FetchJoinToken after delete");
      const old = ctx.unique("old");
      await ds.createJoinToken({ token: { value: old, expiresAt: t - 10n } });
      await ds.createJoinToken({ token: { value: ctx.unique("new"), expiresAt: t + 10n } });
      const pruned = await expectOk(ds.pruneJoinTokens({ expiresBefore: t }), "PruneJoinTokens");
      expect(pruned.count >= 1, "PruneJoinTokens pruned nothing");
      await expectRpcError(ds.fetchJoinToken({ value: old }), Code.NOT_FOUND, "FetchJoinToken of a pruned token");
    },
  ],
  [
    "CA journals: id 0 creates, a known id replaces, an unknown id is NOT_FOUND; fetch by authority; prune by expiry",
    async (ctx) => {
      const ds = await ctx.shared();
      const authority = ctx.unique("authority");
      await expectRpcError(ds.setCaJournal({ caJournal: { id: 0n, activeX509AuthorityId: "", data: Buffer.from("x"), expiresAt: 1n } }), Code.INVALID_ARGUMENT, "SetCAJournal without an authority");
      const created = (await expectOk(ds.setCaJournal({ caJournal: { id: 0n, activeX509AuthorityId: authority, data: Buffer.from([0, 1, 2, 255]), expiresAt: now() + 100n } }), "SetCAJournal(create)")).caJournal!;
      expect(created.id !== 0n, "SetCAJournal with id 0 answered id 0; expected the assigned id");
      expectEqual((await ds.fetchCaJournal({ activeX509AuthorityId: authority })).caJournal, created, "FetchCAJournal");
      const replaced = { ...created, data: Buffer.from("new"), expiresAt: now() - 100n };
      await expectOk(ds.setCaJournal({ caJournal: replaced }), "SetCAJournal(replace)");
      expectEqual((await ds.fetchCaJournal({ activeX509AuthorityId: authority })).caJournal, replaced, "FetchCAJournal after replace");
      await expectRpcError(ds.setCaJournal({ caJournal: { ...replaced, id: created.id + 1_000_000n } }), Code.NOT_FOUND, "SetCAJournal with an unknown id");
      await expectRpcError(ds.fetchCaJournal({ activeX509AuthorityId: ctx.unique("none") }), Code.NOT_FOUND, "FetchCAJournal of an unknown authority");
      const pruned = await expectOk(ds.pruneCaJournals({ expiresBefore: now() }), "PruneCAJournals");
      expect(pruned.count >= 1, "PruneCAJournals pruned nothing");
      await expectRpcError(ds.fetchCaJournal({ activeX509AuthorityId: authority }), Code.NOT_FOUND, "FetchCAJournal of a pruned journal");
    },
  ],
];
