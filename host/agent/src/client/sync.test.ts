/**
 * The agent's half of SyncAuthorizedEntries against the server's real half
 * (host/server/src/api/entry/v1/sync.ts), through a real gRPC server and
 * client in this process.
 */
import { type AsyncClient, Code, createClient } from "@signet/proto";
import { EntryService, type SyncAuthorizedEntriesRequest, type SyncAuthorizedEntriesResponse } from "@signet/proto/spire/api/server/entry/v1/entry";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { encodeEntry } from "../../../server/src/authorizedentries/encoded-entry.js";
import { entryServiceDefinition } from "../../../server/src/api/entry/v1/entry-wire.js";
import { syncAuthorizedEntries as serveSync } from "../../../server/src/api/entry/v1/sync.js";
import { localCaller } from "../../../server/src/api/rpccontext/caller.js";
import { hosted, startApiServer, type TestApiServer } from "../../../../test/fakes/api-server.js";
import { agentEntryMask, syncAuthorizedEntries } from "./sync.js";

/** What the server holds and what the client asked of it. */
const state = {
  entries: [] as Entry[],
  /** When set, the server answers with these replies instead of the real choreography. */
  script: undefined as SyncAuthorizedEntriesResponse[] | undefined,
  requests: [] as SyncAuthorizedEntriesRequest[],
};

let server: TestApiServer;
let client: AsyncClient<typeof EntryService>;

beforeAll(async () => {
  server = await startApiServer(
    [
      hosted(entryServiceDefinition, {
        async *syncAuthorizedEntries(requests) {
          const recorded = recordRequests(requests);
          if (state.script) {
            await recorded[Symbol.asyncIterator]().next();
            yield* state.script;
            return;
          }
          yield* serveSync(recorded, state.entries.map(encodeEntry));
        },
      }),
    ],
    localCaller(),
  );
  client = createClient(EntryService, server.channel);
});
afterAll(() => server.close());
beforeEach(() => {
  state.entries = [];
  state.script = undefined;
  state.requests = [];
});

async function* recordRequests(requests: AsyncIterable<SyncAuthorizedEntriesRequest>): AsyncGenerator<SyncAuthorizedEntriesRequest> {
  for await (const r of requests) {
    state.requests.push(r);
    yield r;
  }
}

function entry(i: number, revision = 0n, createdAt = 1_700_000_000n): Entry {
  return {
    id: `entry-${String(i).padStart(5, "0")}`,
    spiffeId: { trustDomain: "example.org", path: `/workload/${i}` },
    parentId: { trustDomain: "example.org", path: "/spire/agent/join_token/t" },
    selectors: [{ type: "unix", value: `uid:${i}` }],
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: revision,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt,
  };
}

function range(from: number, to: number, revision = 0n): Entry[] {
  return Array.from({ length: to - from }, (_, k) => entry(from + k, revision));
}

const sync = (cached: ReadonlyMap<string, Entry> = new Map()) => syncAuthorizedEntries(client, cached, 30_000);
const byId = (entries: readonly Entry[]) => new Map(entries.map((e) => [e.id, e]));
const idRequests = () => state.requests.slice(1).map((r) => r.ids);
const revisions = (entries: readonly Entry[]) => entries.map((e) => [e.id, e.revisionNumber]);

describe("syncAuthorizedEntries (client half) against the server's generator", () => {
  it("takes a set of at most 500 from the single first reply", async () => {
    state.entries = range(0, 500);
    const got = await sync();
    expect(got.map((e) => e.id)).toEqual(state.entries.map((e) => e.id));
    expect(state.requests).toHaveLength(1);
    expect(state.requests[0]).toEqual({ outputMask: agentEntryMask, ids: [] });
    // The server applied the agent's mask: parent_id is not asked for.
    expect(got[0]?.parentId).toBeUndefined();
    expect(got[0]?.spiffeId).toEqual({ trustDomain: "example.org", path: "/workload/0" });
  });

  it("reads revision pages beyond 500 entries and asks for every unknown id, sorted, in chunks of the page size", async () => {
    state.entries = range(0, 1203).reverse();
    const got = await sync();
    expect(got.map((e) => e.id)).toEqual(state.entries.map((e) => e.id));
    const asked = idRequests();
    expect(asked.map((ids) => ids.length)).toEqual([500, 500, 203]);
    const flat = asked.flat();
    expect(flat).toEqual([...flat].sort());
    expect(new Set(flat).size).toBe(1203);
    expect(got.every((e) => e.parentId === undefined && e.selectors.length === 1)).toBe(true);
  });

  it("asks only for new and changed entries and keeps the cached ones", async () => {
    const before = range(0, 1100);
    state.entries = before;
    const cached = byId(await sync());
    state.requests = [];

    const changed = [entry(7, 1n), entry(900, 5n)];
    const added = [entry(2000), entry(2001), entry(1500)];
    state.entries = [...before.map((e) => changed.find((c) => c.id === e.id) ?? e), ...added];
    const got = await sync(cached);

    expect(idRequests()).toEqual([["entry-00007", "entry-00900", "entry-01500", "entry-02000", "entry-02001"]]);
    expect(revisions(got)).toEqual(revisions(state.entries));
    // Unchanged entries are the cached objects themselves.
    expect(got[1]).toBe(cached.get("entry-00001"));
  });

  it("drops entries the server no longer lists, without asking for anything", async () => {
    state.entries = range(0, 1000);
    const cached = byId(await sync());
    state.requests = [];
    state.entries = range(0, 1000).filter((e) => !["entry-00003", "entry-00600", "entry-00999"].includes(e.id));
    const got = await sync(cached);
    expect(got).toHaveLength(997);
    expect(got.map((e) => e.id)).not.toContain("entry-00600");
    expect(idRequests()).toEqual([]);
  });

  it("drops deleted entries from a small set too", async () => {
    state.entries = range(0, 5);
    const cached = byId(await sync());
    state.entries = range(1, 5);
    expect((await sync(cached)).map((e) => e.id)).toEqual(["entry-00001", "entry-00002", "entry-00003", "entry-00004"]);
  });

  it("asks again for an entry whose created_at changed at the same revision (deleted and re-created)", async () => {
    state.entries = range(0, 600);
    const cached = byId(await sync());
    state.requests = [];
    const recreated = { ...entry(42), createdAt: 1_800_000_000n, selectors: [{ type: "unix", value: "uid:4242" }] };
    state.entries = state.entries.map((e) => (e.id === recreated.id ? recreated : e));
    const got = await sync(cached);
    expect(idRequests()).toEqual([["entry-00042"]]);
    expect(got[42]?.createdAt).toBe(1_800_000_000n);
    expect(got[42]?.selectors).toEqual([{ type: "unix", value: "uid:4242" }]);
  });
});

describe("syncAuthorizedEntries protocol errors", () => {
  const rev = (i: number) => ({ id: entry(i).id, revisionNumber: 0n, createdAt: 1n });

  it("fails on entries in the first revision page", async () => {
    state.script = [{ entryRevisions: [rev(0)], entries: [entry(1)], more: false }];
    await expect(sync()).rejects.toMatchObject({ code: Code.INTERNAL, message: "sync protocol error: entries in a revision page" });
  });

  it("fails on entries in a later revision page", async () => {
    state.script = [
      { entryRevisions: [rev(0)], entries: [], more: true },
      { entryRevisions: [rev(1)], entries: [entry(1)], more: false },
    ];
    await expect(sync()).rejects.toMatchObject({ code: Code.INTERNAL, message: "sync protocol error: entries in a revision page" });
  });

  it("fails when the stream ends before the revision pages do", async () => {
    state.script = [{ entryRevisions: [rev(0)], entries: [], more: true }];
    await expect(sync()).rejects.toMatchObject({ code: Code.INTERNAL, message: "sync stream ended early" });
  });

  it("fails on revisions in an entries page", async () => {
    state.script = [
      { entryRevisions: [rev(0)], entries: [], more: false },
      { entryRevisions: [rev(0)], entries: [], more: false },
    ];
    await expect(sync()).rejects.toMatchObject({ code: Code.INTERNAL, message: "sync protocol error: revisions in an entries page" });
  });

  it("fails on a reply after the single full-list reply", async () => {
    state.script = [
      { entryRevisions: [], entries: [entry(0)], more: false },
      { entryRevisions: [], entries: [entry(1)], more: false },
    ];
    await expect(sync()).rejects.toMatchObject({ code: Code.INTERNAL, message: "sync protocol error: unexpected reply after the last page" });
  });
});
