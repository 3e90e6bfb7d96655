import { type AsyncClient, Code, createClient } from "@signet/proto";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { SpiffeId, TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServer, type TestApiServer } from "../../../../../../test/fakes/api-server.js";
import { startTestDataStore, type TestDataStore } from "../../../../../../test/fakes/datastore.js";
import { EntryCache } from "../../../authorizedentries/entry-cache.js";
import { type Caller, localCaller } from "../../rpccontext/caller.js";
import { allTrueEntryMask } from "./convert.js";
import { entryServiceDefinition } from "./entry-wire.js";
import { entryServiceImpl } from "./service.js";

const td = TrustDomain.parse("example.org");
const agentId = "spiffe://example.org/spire/agent/join_token/t1";
const agentCaller: Caller = { ...localCaller(), local: false, agentId: SpiffeId.parse(agentId) };

function entry(path: string, parent = "/spire/agent/join_token/t1", over: Partial<Entry> = {}): Entry {
  return {
    id: "",
    spiffeId: { trustDomain: "example.org", path },
    parentId: { trustDomain: "example.org", path: parent },
    selectors: [{ type: "unix", value: `uid:${path.length}` }],
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: 0n,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt: 0n,
    ...over,
  };
}

const byId = (a: Entry, b: Entry) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe("Entry API over gRPC on the SQL DataStore", () => {
  let ds: TestDataStore;
  let cache: EntryCache;
  let api: TestApiServer;
  let client: AsyncClient<typeof EntryService>;

  beforeAll(async () => {
    ds = await startTestDataStore();
    cache = new EntryCache({ dataStore: ds.dataStore, trustDomain: td.name, logger: { debug() {}, info() {}, warn() {} } });
    await cache.start();
    const impl = entryServiceImpl({
      dataStore: ds.dataStore,
      authorizedEntries: cache,
      trustDomain: td,
      maxBatchSize: 50,
      syncPageSize: 3,
    });
    api = await startApiServer([{ definition: entryServiceDefinition, impl }], localCaller());
    client = createClient(EntryService, api.channel);
  });
  afterAll(async () => {
    await api?.close();
    await cache?.stop();
    await ds?.close();
  });

  it("creates entries, one result per item, with SPIRE's statuses", async () => {
    await ds.dataStore.createBundle({
      bundle: { trustDomain: "fed.org", x509Authorities: [], jwtAuthorities: [], refreshHint: 0n, sequenceNumber: 0n, witAuthorities: [] },
    });
    const good = entry("/w/a", undefined, { federatesWith: ["spiffe://fed.org"], hint: "web" });
    const { results } = await client.batchCreateEntry({
      entries: [good, entry("/spire/x"), good, entry("/w/b", undefined, { federatesWith: ["nobundle.org"] })],
      outputMask: undefined,
    });
    expect(results[0]?.status).toEqual({ code: 0, message: "OK" });
    expect(results[0]?.entry?.federatesWith).toEqual(["fed.org"]);
    expect(results[0]?.entry?.revisionNumber).toBe(0n);
    expect(results[1]?.status?.code).toBe(Code.INVALID_ARGUMENT);
    expect(results[1]?.status?.message).toBe(
      'failed to convert entry: invalid spiffe ID: "spiffe://example.org/spire/x" is not a workload in trust domain "example.org"; path is in the reserved namespace',
    );
    expect(results[2]?.status).toEqual({ code: Code.ALREADY_EXISTS, message: "similar entry already exists" });
    expect(results[2]?.entry?.id).toBe(results[0]?.entry?.id);
    expect(results[3]?.status?.code).toBe(Code.FAILED_PRECONDITION);
    expect(results[3]?.status?.message).toMatch(/^failed to create entry: /);
  });

  it("refuses an oversized batch as a whole", async () => {
    const entries = Array.from({ length: 51 }, (_, i) => entry(`/big/${i}`));
    await expect(client.batchCreateEntry({ entries, outputMask: undefined })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: "too many items in batch: 51 (limit 50)",
    });
    expect((await client.countEntries({ filter: undefined })).count).toBe(1);
  });

  it("lists with filters, masks and page tokens, and counts", async () => {
    const created = await client.batchCreateEntry({
      entries: [entry("/w/c"), entry("/w/d", "/w/c"), entry("/w/e", "/w/c", { downstream: true })],
      outputMask: undefined,
    });
    expect(created.results.every((r) => r.status?.code === 0)).toBe(true);
    const noneMask = Object.fromEntries(Object.keys(allTrueEntryMask).map((k) => [k, false])) as unknown as typeof allTrueEntryMask;

    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await client.listEntries({ filter: undefined, outputMask: { ...noneMask, spiffeId: true }, pageSize: 2, pageToken });
      expect(page.entries.length).toBeLessThanOrEqual(2);
      for (const e of page.entries) {
        expect(e.selectors).toEqual([]);
        seen.push(e.spiffeId?.path ?? "");
      }
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== "" && pages < 10);
    expect(seen.sort()).toEqual(["/w/a", "/w/c", "/w/d", "/w/e"]);

    const filter = {
      bySpiffeId: undefined,
      byParentId: { trustDomain: "example.org", path: "/w/c" },
      bySelectors: undefined,
      byFederatesWith: undefined,
      byHint: undefined,
      byDownstream: false,
    };
    const byParent = await client.listEntries({ filter, outputMask: undefined, pageSize: 0, pageToken: "" });
    expect(byParent.entries.map((e) => e.spiffeId?.path)).toEqual(["/w/d"]);
    expect(byParent.nextPageToken).toBe("");
    expect((await client.countEntries({ filter })).count).toBe(1);
    await expect(
      client.countEntries({ filter: { ...filter, bySelectors: { selectors: [], match: 0 } } }),
    ).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "malformed selectors filter: empty selector set" });
  });

  it("gets, updates with an input mask (revision + 1) and deletes", async () => {
    const [a] = (await client.listEntries({ filter: undefined, outputMask: undefined, pageSize: 0, pageToken: "" })).entries.filter(
      (e) => e.spiffeId?.path === "/w/a",
    );
    const id = a?.id ?? "";
    expect((await client.getEntry({ id, outputMask: undefined })).hint).toBe("web");
    await expect(client.getEntry({ id: "", outputMask: undefined })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: "missing ID" });
    await expect(client.getEntry({ id: "nope", outputMask: undefined })).rejects.toMatchObject({
      code: Code.NOT_FOUND,
      message: "entry not found",
    });

    const noneMask = Object.fromEntries(Object.keys(allTrueEntryMask).map((k) => [k, false])) as unknown as typeof allTrueEntryMask;
    const upd = await client.batchUpdateEntry({
      entries: [{ ...entry("", ""), id, selectors: [], hint: "api" }, { ...entry("/w/zz"), id: "missing" }],
      inputMask: { ...noneMask, hint: true },
      outputMask: undefined,
    });
    expect(upd.results[0]?.status?.code).toBe(0);
    expect(upd.results[0]?.entry?.hint).toBe("api");
    expect(upd.results[0]?.entry?.selectors).toEqual(a?.selectors);
    expect(upd.results[0]?.entry?.revisionNumber).toBe(1n);
    expect(upd.results[1]?.status).toEqual({ code: Code.NOT_FOUND, message: "failed to update entry" });

    const del = await client.batchDeleteEntry({ ids: [id, "", "missing"] });
    expect(del.results).toEqual([
      { status: { code: 0, message: "OK" }, id },
      { status: { code: Code.INVALID_ARGUMENT, message: "missing entry ID" }, id: "" },
      { status: { code: Code.NOT_FOUND, message: "entry not found" }, id: "missing" },
    ]);
  });

  it("serves the calling agent its authorized entries, and syncs them in pages", async () => {
    await client.batchCreateEntry({
      entries: [entry("/w/f"), entry("/w/g"), entry("/w/h", "/w/g")],
      outputMask: undefined,
    });
    await cache.catchUp(5000);
    api.caller = agentCaller;
    try {
      const got = await client.getAuthorizedEntries({ outputMask: undefined });
      const paths = got.entries.map((e) => e.spiffeId?.path).sort();
      expect(paths).toEqual(["/w/c", "/w/d", "/w/e", "/w/f", "/w/g", "/w/h"]);

      const call = client.syncAuthorizedEntries();
      call.send({ outputMask: undefined, ids: [] });
      const replies = [];
      let wanted: string[] = [];
      for await (const reply of call) {
        replies.push(reply);
        if (reply.entryRevisions.length > 0) wanted.push(...reply.entryRevisions.map((r) => r.id));
        if (reply.entryRevisions.length > 0 && !reply.more) {
          wanted = wanted.sort().slice(0, 4);
          call.send({ outputMask: undefined, ids: wanted });
        } else if (reply.entries.length >= 0 && reply.entryRevisions.length === 0 && !reply.more) {
          call.end();
        }
      }
      expect(replies.map((r) => [r.entryRevisions.length, r.entries.length, r.more])).toEqual([
        [3, 0, true],
        [3, 0, false],
        [0, 3, true],
        [0, 1, false],
      ]);
    } finally {
      api.caller = localCaller();
    }
    await expect(client.getAuthorizedEntries({ outputMask: undefined })).rejects.toMatchObject({
      code: Code.INTERNAL,
      message: "caller ID missing from request context",
    });
  });

  it("still sends every authorized entry if hosted with the generated EntryService definition", async () => {
    // The handlers' replies carry entries encoded for entryServiceDefinition's
    // serializer; under the generated one they must not silently go empty.
    const impl = entryServiceImpl({ dataStore: ds.dataStore, authorizedEntries: cache, trustDomain: td, syncPageSize: 3 });
    const plain = await startApiServer([{ definition: EntryService, impl: impl as never }], agentCaller);
    try {
      const other = createClient(EntryService, plain.channel);
      api.caller = agentCaller;
      const mask = { ...allTrueEntryMask, selectors: false };
      const expected = await client.getAuthorizedEntries({ outputMask: mask });
      expect(expected.entries.length).toBeGreaterThan(3);
      expect(await other.getAuthorizedEntries({ outputMask: mask })).toEqual(expected);
      const call = other.syncAuthorizedEntries();
      call.send({ outputMask: undefined, ids: [] });
      const ids: string[] = [];
      const got: Entry[] = [];
      for await (const reply of call) {
        ids.push(...reply.entryRevisions.map((r) => r.id));
        got.push(...reply.entries);
        if (reply.entryRevisions.length > 0 && !reply.more) call.send({ outputMask: undefined, ids });
        else if (reply.entryRevisions.length === 0 && !reply.more) call.end();
      }
      const full = await client.getAuthorizedEntries({ outputMask: undefined });
      expect(got.sort(byId)).toEqual(full.entries.sort(byId));
    } finally {
      api.caller = localCaller();
      await plain.close();
    }
  });
});
