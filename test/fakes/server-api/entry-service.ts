/**
 * An in-memory Entry API (spire.api.server.entry.v1.Entry) for CLI tests:
 * real create/update/delete/get/list/count semantics on a map, with SPIRE's
 * per-item statuses (AlreadyExists returns the existing entry, NotFound for
 * unknown ids) and opaque page tokens.
 */
import { randomUUID } from "node:crypto";
import { Code, implement, RpcError, type ServiceRegistration } from "@signet/proto";
import { EntryService, type ListEntriesRequest_Filter } from "@signet/proto/spire/api/server/entry/v1/entry";
import type { Entry } from "@signet/proto/spire/api/types/entry";

const ok = { code: 0, message: "OK" };
const idKey = (e: Entry) => `${e.spiffeId?.trustDomain}${e.spiffeId?.path}|${e.parentId?.trustDomain}${e.parentId?.path}`;
const selectorKey = (e: Entry) => e.selectors.map((s) => `${s.type}:${s.value}`).sort().join(",");

export class InMemoryEntries {
  readonly entries = new Map<string, Entry>();
  listCalls = 0;

  registration(): ServiceRegistration {
    return implement(EntryService, {
      batchCreateEntry: async (req) => ({
        results: req.entries.map((e) => {
          const dup = [...this.entries.values()].find((x) => idKey(x) === idKey(e) && selectorKey(x) === selectorKey(e));
          if (dup) return { status: { code: Code.ALREADY_EXISTS, message: "similar entry already exists" }, entry: dup };
          if (e.selectors.length === 0) return { status: { code: Code.INVALID_ARGUMENT, message: "failed to convert entry: selector list is empty" }, entry: undefined };
          const stored: Entry = { ...e, id: e.id || randomUUID(), revisionNumber: 0n, createdAt: 1_700_000_000n };
          this.entries.set(stored.id, stored);
          return { status: ok, entry: stored };
        }),
      }),
      batchUpdateEntry: async (req) => ({
        results: req.entries.map((e) => {
          const old = this.entries.get(e.id);
          if (!old) return { status: { code: Code.NOT_FOUND, message: "entry not found" }, entry: undefined };
          const stored: Entry = { ...e, revisionNumber: old.revisionNumber + 1n, createdAt: old.createdAt };
          this.entries.set(e.id, stored);
          return { status: ok, entry: stored };
        }),
      }),
      batchDeleteEntry: async (req) => ({
        results: req.ids.map((id) => {
          if (!this.entries.delete(id)) return { status: { code: Code.NOT_FOUND, message: "entry not found" }, id };
          return { status: ok, id };
        }),
      }),
      getEntry: async (req) => {
        const e = this.entries.get(req.id);
        if (!e) throw new RpcError(Code.NOT_FOUND, "entry not found");
        return e;
      },
      countEntries: async (req) => ({ count: this.matching(req.filter).length }),
      listEntries: async (req) => {
        this.listCalls++;
        const all = this.matching(req.filter).sort((a, b) => (a.id < b.id ? -1 : 1));
        const start = req.pageToken === "" ? 0 : Number(req.pageToken);
        if (req.pageSize === 0) return { entries: all, nextPageToken: "" };
        const page = all.slice(start, start + req.pageSize);
        const next = start + req.pageSize < all.length ? String(start + req.pageSize) : "";
        return { entries: page, nextPageToken: next };
      },
    });
  }

  private matching(filter: ListEntriesRequest_Filter | undefined): Entry[] {
    return [...this.entries.values()].filter((e) => {
      if (!filter) return true;
      if (filter.bySpiffeId && (filter.bySpiffeId.trustDomain !== e.spiffeId?.trustDomain || filter.bySpiffeId.path !== e.spiffeId?.path)) return false;
      if (filter.byParentId && (filter.byParentId.trustDomain !== e.parentId?.trustDomain || filter.byParentId.path !== e.parentId?.path)) return false;
      if (filter.byDownstream !== undefined && filter.byDownstream !== e.downstream) return false;
      if (filter.byHint !== undefined && filter.byHint !== e.hint) return false;
      if (filter.bySelectors) {
        const have = new Set(e.selectors.map((s) => `${s.type}:${s.value}`));
        if (!filter.bySelectors.selectors.every((s) => have.has(`${s.type}:${s.value}`))) return false;
      }
      return true;
    });
  }
}
