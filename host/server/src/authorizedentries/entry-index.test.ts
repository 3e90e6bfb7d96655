import type { Entry } from "@signet/proto/spire/api/types/entry";
import { describe, expect, it } from "vitest";
import { decodeEntry, type EncodedEntry, entryIdOf } from "./encoded-entry.js";
import { EntryIndex, pathHash } from "./entry-index.js";

const td = "example.org";
const agent = "spiffe://example.org/spire/agent/x509pop/node1";

function entry(id: string, parent: string, spiffe: string, selectors: string[] = ["unix:uid:1"], extra: Partial<Entry> = {}): Entry {
  const id_ = (s: string) => {
    const u = s.startsWith("spiffe://") ? s.slice(9) : `${td}${s}`;
    const slash = u.indexOf("/");
    return { trustDomain: slash < 0 ? u : u.slice(0, slash), path: slash < 0 ? "" : u.slice(slash) };
  };
  return {
    id,
    spiffeId: id_(spiffe),
    parentId: id_(parent),
    selectors: selectors.map((s) => ({ type: s.slice(0, s.indexOf(":")), value: s.slice(s.indexOf(":") + 1) })),
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
    ...extra,
  };
}

const ids = (list: readonly EncodedEntry[]) => list.map(entryIdOf);

describe("EntryIndex", () => {
  it("returns entries parented by the agent, then their descendants depth first", () => {
    const index = new EntryIndex(td);
    index.putEntry(entry("a", "/spire/agent/x509pop/node1", "/w/a"));
    index.putEntry(entry("a1", "/w/a", "/w/a1"));
    index.putEntry(entry("b", "/spire/agent/x509pop/node1", "/w/b"));
    index.putEntry(entry("a11", "/w/a1", "/w/a11"));
    index.putEntry(entry("other", "/spire/agent/x509pop/node2", "/w/o"));
    expect(ids(index.authorizedEntries(agent))).toEqual(["a", "a1", "a11", "b"]);
  });

  it("follows node aliases whose selectors are a subset of the agent's and never returns the alias itself", () => {
    const index = new EntryIndex(td);
    index.setAgentSelectors(agent, [
      { type: "x509pop", value: "subject:cn:node1" },
      { type: "x509pop", value: "ca:fingerprint:abc" },
    ]);
    index.putEntry(entry("alias1", "/spire/server", "/cluster/a", ["x509pop:ca:fingerprint:abc"]));
    index.putEntry(entry("alias2", "/spire/server", "/cluster/b", ["x509pop:ca:fingerprint:abc", "x509pop:other"]));
    index.putEntry(entry("w1", "/cluster/a", "/w/1"));
    index.putEntry(entry("w2", "/cluster/b", "/w/2"));
    expect(ids(index.authorizedEntries(agent))).toEqual(["w1"]);
    index.setAgentSelectors(agent, [
      { type: "x509pop", value: "ca:fingerprint:abc" },
      { type: "x509pop", value: "other" },
    ]);
    expect(ids(index.authorizedEntries(agent))).toEqual(["w1", "w2"]);
    index.setAgentSelectors(agent, []);
    expect(ids(index.authorizedEntries(agent))).toEqual([]);
  });

  it("crawls each parent once, so cycles and shared parents cause no duplicates", () => {
    const index = new EntryIndex(td);
    index.putEntry(entry("a", "/spire/agent/x509pop/node1", "/w/a"));
    index.putEntry(entry("b", "/w/a", "/w/b"));
    index.putEntry(entry("c", "/w/b", "/w/a"));
    index.putEntry(entry("d", "/w/a", "/spire/agent/x509pop/node1"));
    expect(ids(index.authorizedEntries(agent))).toEqual(["a", "b", "c", "d"]);
  });

  it("survives a very long chain of nested entries", () => {
    const index = new EntryIndex(td);
    let parent = "/spire/agent/x509pop/node1";
    for (let i = 0; i < 20_000; i++) {
      index.putEntry(entry(`e${i}`, parent, `/chain/${i}`));
      parent = `/chain/${i}`;
    }
    expect(index.authorizedEntries(agent)).toHaveLength(20_000);
    expect(index.authorizedEntry(agent, "e19999")?.id).toBe("e19999");
  });

  it("ignores entries outside the trust domain, and an update that moves one out removes it", () => {
    const index = new EntryIndex(td);
    index.putEntry(entry("x", "/spire/agent/x509pop/node1", "spiffe://other.org/w"));
    index.putEntry(entry("y", "spiffe://other.org/spire/agent/x509pop/node1", "/w/y"));
    index.putEntry(entry("z", "/spire/agent/x509pop/node1", "/w/z"));
    expect(ids(index.authorizedEntries(agent))).toEqual(["z"]);
    index.putEntry(entry("z", "/spire/agent/x509pop/node1", "spiffe://other.org/w"));
    expect(index.authorizedEntries(agent)).toEqual([]);
    expect(index.entryCount).toBe(0);
    expect(index.authorizedEntries("spiffe://other.org/spire/agent/x509pop/node1")).toEqual([]);
  });

  it("moves an entry when its parent changes and forgets deleted entries and aliases", () => {
    const index = new EntryIndex(td);
    index.setAgentSelectors(agent, [{ type: "k", value: "v" }]);
    index.putEntry(entry("a", "/spire/agent/x509pop/node1", "/w/a"));
    index.putEntry(entry("alias", "/spire/server", "/al", ["k:v"]));
    index.putEntry(entry("b", "/al", "/w/b"));
    expect(ids(index.authorizedEntries(agent))).toEqual(["a", "b"]);
    index.putEntry(entry("a", "/spire/agent/x509pop/node2", "/w/a"));
    index.removeEntry("alias");
    index.removeEntry("unknown");
    expect(ids(index.authorizedEntries(agent))).toEqual([]);
    expect(index.entryCount).toBe(2);
  });

  it("round-trips every entry field through the compact record", () => {
    const index = new EntryIndex(td);
    const full = entry("f", "/spire/agent/x509pop/node1", "/w/f", ["a:1", "b:2:3"], {
      x509SvidTtl: 60,
      jwtSvidTtl: 30,
      federatesWith: ["a.org", "b.org"],
      admin: true,
      downstream: true,
      expiresAt: 1_900_000_000n,
      dnsNames: ["x.example"],
      revisionNumber: 7n,
      storeSvid: true,
      hint: "h",
      createdAt: 1_700_000_000n,
      additionalAttributes: { disableX509SvidPrefetch: true, jwtSvidIncludeJti: false },
    });
    index.putEntry(full);
    expect(index.authorizedEntries(agent).map(decodeEntry)).toEqual([full]);
    expect(index.authorizedEntry(agent, "f")).toEqual(full);
    const bare = entry("g", "/spire/agent/x509pop/node1", "/w/g");
    index.putEntry(bare);
    expect(index.authorizedEntry(agent, "g")).toEqual(bare);
    expect(index.authorizedEntry(agent, "g")?.additionalAttributes).toBeUndefined();
  });

  it("answers authorizedEntry only for reachable entries", () => {
    const index = new EntryIndex(td);
    index.putEntry(entry("a", "/spire/agent/x509pop/node1", "/w/a"));
    index.putEntry(entry("b", "/spire/agent/x509pop/node2", "/w/b"));
    expect(index.authorizedEntry(agent, "a")?.id).toBe("a");
    expect(index.authorizedEntry(agent, "b")).toBeUndefined();
    expect(index.authorizedEntry(agent, "zzz")).toBeUndefined();
    expect(index.authorizedEntry("spiffe://example.orgx/spire/agent/x509pop/node1", "a")).toBeUndefined();
    // Remembered answers follow changes to the index.
    index.putEntry(entry("a", "/spire/agent/x509pop/node2", "/w/a"));
    expect(index.authorizedEntry(agent, "a")).toBeUndefined();
    index.putEntry(entry("b", "/spire/agent/x509pop/node1", "/w/b"));
    expect(index.authorizedEntry(agent, "b")?.id).toBe("b");
  });

  it("tracks admin and downstream SPIFFE IDs across updates and deletes", () => {
    const index = new EntryIndex(td);
    index.putEntry(entry("a", "/p", "/admin", ["a:1"], { admin: true }));
    index.putEntry(entry("b", "/q", "/admin", ["a:2"], { admin: true, downstream: true }));
    expect(index.isAdmin("spiffe://example.org/admin")).toBe(true);
    expect(index.isDownstream("spiffe://example.org/admin")).toBe(true);
    index.removeEntry("b");
    expect(index.isDownstream("spiffe://example.org/admin")).toBe(false);
    expect(index.isAdmin("spiffe://example.org/admin")).toBe(true);
    index.putEntry(entry("a", "/p", "/admin", ["a:1"], { admin: false }));
    expect(index.isAdmin("spiffe://example.org/admin")).toBe(false);
    expect(index.isAdmin("spiffe://other.org/admin")).toBe(false);
  });

  it("hands out snapshots that later changes leave as they were", () => {
    const index = new EntryIndex(td);
    index.putEntry(entry("a", "/spire/agent/x509pop/node1", "/w/a", ["a:1"], { dnsNames: ["x"] }));
    index.putEntry(entry("b", "/spire/agent/x509pop/node1", "/w/b", ["a:1"]));
    const before = index.authorizedEntries(agent);
    index.putEntry(entry("a", "/spire/agent/x509pop/node1", "/w/a", ["a:1"], { dnsNames: ["y"] }));
    index.removeEntry("b");
    // A new entry may take b's freed slot; the snapshot still holds b itself.
    index.putEntry(entry("c", "/spire/agent/x509pop/node1", "/w/c"));
    expect(before.map(decodeEntry).map((e) => [e.id, e.dnsNames])).toEqual([
      ["a", ["x"]],
      ["b", []],
    ]);
    expect(ids(index.authorizedEntries(agent))).toEqual(["a", "c"]);
    expect(index.authorizedEntry(agent, "a")?.dnsNames).toEqual(["y"]);
    const list = index.authorizedEntries(agent);
    list.pop();
    expect(index.authorizedEntries(agent)).toHaveLength(2);
  });

  it("crawls only true children when two paths share a hash", () => {
    // Two SPIFFE paths whose 32-bit hashes collide (found by a birthday search over /w/<n>).
    const [p1, p2] = ["/w/1039599", "/w/1222382"];
    expect(p1).not.toBe(p2);
    expect(pathHash(p1)).toBe(pathHash(p2));
    const index = new EntryIndex(td);
    index.putEntry(entry("x", "/spire/agent/x509pop/node1", p1));
    index.putEntry(entry("under-p1", p1, "/w/under-p1"));
    index.putEntry(entry("under-p2", p2, "/w/under-p2"));
    index.putEntry(entry("y", "/spire/agent/x509pop/node2", p2));
    expect(ids(index.authorizedEntries(agent))).toEqual(["x", "under-p1"]);
    expect(ids(index.authorizedEntries("spiffe://example.org/spire/agent/x509pop/node2"))).toEqual(["y", "under-p2"]);
    index.removeEntry("under-p1");
    expect(ids(index.authorizedEntries(agent))).toEqual(["x"]);
    expect(ids(index.authorizedEntries("spiffe://example.org/spire/agent/x509pop/node2"))).toEqual(["y", "under-p2"]);
  });

  it("keeps ids and paths with non-ASCII characters intact", () => {
    const index = new EntryIndex(td);
    index.putEntry(entry("é-1", "/spire/agent/x509pop/node1", "/w/é", ["unix:ü"]));
    index.putEntry(entry("é-2", "/w/é", "/w/é/child"));
    expect(ids(index.authorizedEntries(agent))).toEqual(["é-1", "é-2"]);
    expect(index.authorizedEntry(agent, "é-2")?.spiffeId?.path).toBe("/w/é/child");
    expect(index.authorizedEntry(agent, "é-1")?.selectors).toEqual([{ type: "unix", value: "ü" }]);
  });

  it("keys ids and paths that are not well-formed UTF-16 as their stored bytes read back, leaving nothing stale", () => {
    // A lone surrogate encodes as U+FFFD; the index must find, count and
    // remove such an entry by the same key it reads back from the bytes.
    const index = new EntryIndex(td);
    const odd = "/w/\uD800";
    index.putEntry(entry("a", "/spire/agent/x509pop/node1", odd, ["a:1"], { admin: true }));
    index.putEntry(entry("b", odd, "/w/b"));
    index.putEntry(entry("alias-\uDC00", "/spire/server", odd, ["k:v"]));
    expect(ids(index.authorizedEntries(agent))).toEqual(["a", "b"]);
    expect(index.isAdmin(`spiffe://${td}${odd}`)).toBe(true);
    index.removeEntry("a");
    index.removeEntry("alias-\uDC00");
    expect(index.isAdmin(`spiffe://${td}${odd}`)).toBe(false);
    expect(index.entryCount).toBe(1);
    index.removeEntry("b");
    // c takes b's freed slot; it must not show up under b's old parent.
    index.putEntry(entry("c", "/spire/agent/x509pop/node2", "/w/c"));
    expect(index.authorizedEntries(`spiffe://${td}${odd}`)).toEqual([]);
    expect(index.authorizedEntries(`spiffe://${td}/w/\uFFFD`)).toEqual([]);
    expect(index.entryCount).toBe(1);
  });
});
