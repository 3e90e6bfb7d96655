/**
 * Attested nodes (agents) and node selectors. Node selectors are keyed by the
 * agent ID alone and live independently of the node record, so the server
 * can store them before the node exists.
 */
import type { Knex } from "knex";
import type {
  AttestedNode,
  AttestedNodeFilter,
  AttestedNodeMask,
  PageRequest,
} from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { alreadyExists, invalid, notFound } from "./errors.js";
import { checkSpiffeId } from "./ids.js";
import { pageSizeOf, pageToken, resumeAfter } from "./paging.js";
import { checkMatchBehavior, normalizeSelectors, whereSetMatches } from "./selectors.js";
import { type Store, type Tx, EventKind, EventOp, big, bool, chunks, dbBig, num, query, read, write } from "./store.js";

interface NodeRow {
  spiffe_id: string;
  data_type: string;
  serial_number: string;
  expires_at: unknown;
  new_serial_number: string;
  new_expires_at: unknown;
  can_reattest: unknown;
  agent_version: string;
}

const maxFieldLength = 255;

function rowOf(node: AttestedNode): Omit<NodeRow, "spiffe_id"> {
  for (const [name, value] of [
    ["attestation_data_type", node.attestationDataType],
    ["cert_serial_number", node.certSerialNumber],
    ["new_cert_serial_number", node.newCertSerialNumber],
    ["agent_version", node.agentVersion],
  ] as const) {
    if (value.length > maxFieldLength) throw invalid(`${name} is longer than ${maxFieldLength} characters`);
  }
  return {
    data_type: node.attestationDataType,
    serial_number: node.certSerialNumber,
    expires_at: dbBig(node.certNotAfter),
    new_serial_number: node.newCertSerialNumber,
    new_expires_at: dbBig(node.newCertNotAfter),
    can_reattest: node.canReattest,
    agent_version: node.agentVersion,
  };
}

function nodeOf(r: NodeRow, selectors: Selector[]): AttestedNode {
  return {
    spiffeId: r.spiffe_id,
    attestationDataType: r.data_type,
    certSerialNumber: r.serial_number,
    certNotAfter: big(r.expires_at),
    newCertSerialNumber: r.new_serial_number,
    newCertNotAfter: big(r.new_expires_at),
    selectors,
    canReattest: bool(r.can_reattest),
    agentVersion: r.agent_version,
  };
}

export async function createAttestedNode(store: Store, node: AttestedNode | undefined): Promise<AttestedNode> {
  if (!node) throw invalid("invalid request: missing attested node");
  const spiffeId = checkSpiffeId(node.spiffeId, "attested node SPIFFE ID");
  const row = { spiffe_id: spiffeId, ...rowOf(node) };
  return write(store, async (tx) => {
    if (await tx.trx("attested_nodes").where({ spiffe_id: spiffeId }).first("spiffe_id")) {
      throw alreadyExists(`attested node ${JSON.stringify(spiffeId)} already exists`);
    }
    await tx.trx("attested_nodes").insert(row);
    tx.event(EventKind.ATTESTED_NODE, EventOp.CREATED, spiffeId);
    return nodeOf(row as NodeRow, []);
  });
}

export async function fetchAttestedNode(store: Store, spiffeId: string): Promise<AttestedNode> {
  checkSpiffeId(spiffeId);
  const [node] = await fetchAttestedNodes(store, [spiffeId]);
  if (!node) throw notFound("no such attested node");
  return node;
}

export async function fetchAttestedNodes(store: Store, spiffeIds: readonly string[]): Promise<AttestedNode[]> {
  const out: AttestedNode[] = [];
  for (const part of chunks([...new Set(spiffeIds)].filter((id) => id !== ""), store.dialect.maxInList)) {
    out.push(
      ...(await read(store, async (trx) => {
        const rows = (await trx("attested_nodes").whereIn("spiffe_id", part).select("*")) as NodeRow[];
        return withSelectors(trx, rows, store);
      })),
    );
  }
  return out;
}

/** `contiguous`: the rows are every node in their ID range (see hydrateEntries for why that matters). */
async function withSelectors(db: Knex | Knex.Transaction, rows: readonly NodeRow[], store: Store, contiguous = false): Promise<AttestedNode[]> {
  const ids = rows.map((r) => r.spiffe_id);
  const selectors = await selectorsOf(db, contiguous && ids.length > 0 ? { from: ids[0]!, to: ids[ids.length - 1]! } : ids, store);
  return rows.map((r) => nodeOf(r, selectors.get(r.spiffe_id) ?? []));
}

async function selectorsOf(
  db: Knex | Knex.Transaction,
  ids: readonly string[] | { readonly from: string; readonly to: string },
  store: Store,
): Promise<Map<string, Selector[]>> {
  const map = new Map<string, Selector[]>();
  const parts = "from" in ids
    ? [(q: Knex.QueryBuilder) => q.whereBetween("spiffe_id", [ids.from, ids.to])]
    : chunks(ids, store.dialect.maxInList).map((part) => (q: Knex.QueryBuilder) => q.whereIn("spiffe_id", part));
  for (const where of parts) {
    const rows = await where(db("node_selectors").orderBy([{ column: "spiffe_id" }, { column: "seq" }]).select("spiffe_id", "type", "value"));
    for (const r of rows) {
      const list = map.get(r.spiffe_id as string) ?? [];
      list.push({ type: r.type as string, value: r.value as string });
      map.set(r.spiffe_id as string, list);
    }
  }
  return map;
}

function applyNodeFilter(q: Knex.QueryBuilder, filter: AttestedNodeFilter | undefined): void {
  if (!filter) return;
  if (filter.byAttestationType !== undefined) q.where("attested_nodes.data_type", filter.byAttestationType);
  if (filter.byBanned !== undefined) q.where("attested_nodes.serial_number", filter.byBanned ? "=" : "<>", "");
  if (filter.byExpiresBefore !== undefined) q.where("attested_nodes.expires_at", "<", dbBig(filter.byExpiresBefore));
  if (filter.byCanReattest !== undefined) q.where("attested_nodes.can_reattest", filter.byCanReattest);
  if (filter.bySelectorMatch) {
    if (filter.bySelectorMatch.selectors.length === 0) throw invalid("cannot list by empty selector set");
    const behavior = checkMatchBehavior(filter.bySelectorMatch.match, "selector filter");
    const selectors = normalizeSelectors(filter.bySelectorMatch.selectors, "selector filter");
    whereSetMatches(
      q,
      { table: "node_selectors", owner: "spiffe_id", outerKey: "attested_nodes.spiffe_id", columns: (s: Selector) => ({ type: s.type, value: s.value }) },
      selectors,
      behavior,
    );
  }
}

const listRpc = "ListAttestedNodes";

export async function* listAttestedNodes(
  store: Store,
  filter: AttestedNodeFilter | undefined,
  page: PageRequest | undefined,
  fetchSelectors: boolean,
): AsyncGenerator<{ nodes: AttestedNode[]; nextPageToken: string }> {
  const size = pageSizeOf(page?.pageSize ?? 0);
  const maxPages = page?.maxPages ?? 0;
  if (maxPages < 0) throw invalid("max_pages must not be negative");
  let after = resumeAfter(listRpc, page?.pageToken ?? "");
  applyNodeFilter(store.knex("attested_nodes"), filter);
  for (let n = 0; maxPages === 0 || n < maxPages; n++) {
    const { nodes, more } = await read(store, async (trx) => {
      const q = trx("attested_nodes").select("attested_nodes.*");
      applyNodeFilter(q, filter);
      if (after !== undefined) q.where("attested_nodes.spiffe_id", ">", after);
      const rows = (await q.orderBy("attested_nodes.spiffe_id").limit(size + 1)) as NodeRow[];
      const more = rows.length > size;
      const pageRows = more ? rows.slice(0, size) : rows;
      return { nodes: fetchSelectors ? await withSelectors(trx, pageRows, store, !filter || Object.values(filter).every((v) => v === undefined)) : pageRows.map((r) => nodeOf(r, [])), more };
    });
    const last = nodes[nodes.length - 1];
    const nextPageToken = more && last ? pageToken(listRpc, last.spiffeId) : "";
    if (nodes.length > 0 || n === 0) yield { nodes, nextPageToken };
    if (!nextPageToken) return;
    after = last!.spiffeId;
  }
}

export async function countAttestedNodes(store: Store, filter: AttestedNodeFilter | undefined): Promise<number> {
  const q = store.knex("attested_nodes");
  applyNodeFilter(q, filter);
  const row = await query(() => q.count({ n: "*" }).first());
  return num((row as { n?: unknown } | undefined)?.n);
}

const allNodeFields: AttestedNodeMask = {
  attestationDataType: true,
  certSerialNumber: true,
  certNotAfter: true,
  newCertSerialNumber: true,
  newCertNotAfter: true,
  canReattest: true,
  agentVersion: true,
};

export async function updateAttestedNode(store: Store, node: AttestedNode | undefined, mask: AttestedNodeMask | undefined): Promise<AttestedNode> {
  if (!node) throw invalid("invalid request: missing attested node");
  const spiffeId = checkSpiffeId(node.spiffeId, "attested node SPIFFE ID");
  const m = mask ?? allNodeFields;
  const full = rowOf(node);
  const changes: Record<string, unknown> = {};
  if (m.attestationDataType) changes.data_type = full.data_type;
  if (m.certSerialNumber) changes.serial_number = full.serial_number;
  if (m.certNotAfter) changes.expires_at = full.expires_at;
  if (m.newCertSerialNumber) changes.new_serial_number = full.new_serial_number;
  if (m.newCertNotAfter) changes.new_expires_at = full.new_expires_at;
  if (m.canReattest) changes.can_reattest = full.can_reattest;
  if (m.agentVersion) changes.agent_version = full.agent_version;
  return write(store, async (tx) => {
    const exists = await lockedNode(tx, spiffeId);
    if (!exists) throw notFound("no such attested node");
    if (Object.keys(changes).length > 0) await tx.trx("attested_nodes").where({ spiffe_id: spiffeId }).update(changes);
    const row = (await tx.trx("attested_nodes").where({ spiffe_id: spiffeId }).first("*")) as NodeRow;
    tx.event(EventKind.ATTESTED_NODE, EventOp.UPDATED, spiffeId);
    const [updated] = await withSelectors(tx.trx, [row], store);
    return updated!;
  });
}

async function lockedNode(tx: Tx, spiffeId: string): Promise<NodeRow | undefined> {
  const q = tx.trx("attested_nodes").where({ spiffe_id: spiffeId }).first("*");
  return (tx.dialect.rowLocks ? await q.forUpdate() : await q) as NodeRow | undefined;
}

export async function deleteAttestedNode(store: Store, spiffeId: string): Promise<AttestedNode> {
  checkSpiffeId(spiffeId);
  return write(store, async (tx) => {
    const row = await lockedNode(tx, spiffeId);
    if (!row) throw notFound("no such attested node");
    const [node] = await withSelectors(tx.trx, [row], store);
    await deleteNodeRows(tx, spiffeId, node!.selectors.length > 0);
    return node!;
  });
}

async function deleteNodeRows(tx: Tx, spiffeId: string, hadSelectors: boolean): Promise<void> {
  await tx.trx("attested_nodes").where({ spiffe_id: spiffeId }).delete();
  tx.event(EventKind.ATTESTED_NODE, EventOp.DELETED, spiffeId);
  if (hadSelectors) {
    await tx.trx("node_selectors").where({ spiffe_id: spiffeId }).delete();
    tx.event(EventKind.NODE_SELECTORS, EventOp.DELETED, spiffeId);
  }
}

export async function pruneAttestedNodes(store: Store, expiredBefore: bigint, includeNonReattestable: boolean): Promise<number> {
  const candidates = (await query(() => {
    const q = store.knex("attested_nodes").where("expires_at", "<", dbBig(expiredBefore));
    if (!includeNonReattestable) q.where("can_reattest", true);
    return q.orderBy("spiffe_id").pluck("spiffe_id");
  })) as string[];
  let count = 0;
  for (const part of chunks(candidates, 200)) {
    count += await write(store, async (tx) => {
      let n = 0;
      for (const id of part) {
        const q = tx.trx("attested_nodes").where({ spiffe_id: id }).andWhere("expires_at", "<", dbBig(expiredBefore));
        if (!includeNonReattestable) q.andWhere("can_reattest", true);
        if (!(await q.first("spiffe_id"))) continue;
        const had = await tx.trx("node_selectors").where({ spiffe_id: id }).first("spiffe_id");
        await deleteNodeRows(tx, id, had !== undefined);
        n++;
      }
      return n;
    });
  }
  return count;
}

export async function setNodeSelectors(store: Store, spiffeId: string, selectors: readonly Selector[]): Promise<void> {
  checkSpiffeId(spiffeId);
  const list = normalizeSelectors(selectors, "node selectors");
  await write(store, async (tx) => {
    await tx.trx("node_selectors").where({ spiffe_id: spiffeId }).delete();
    const rows = list.map((s, seq) => ({ spiffe_id: spiffeId, seq, type: s.type, value: s.value }));
    for (const part of chunks(rows, Math.floor(store.dialect.maxInList / 4))) await tx.trx("node_selectors").insert(part);
    tx.event(EventKind.NODE_SELECTORS, EventOp.UPDATED, spiffeId);
  });
}

export async function getNodeSelectors(store: Store, spiffeId: string): Promise<Selector[]> {
  checkSpiffeId(spiffeId);
  const map = await query(() => selectorsOf(store.knex, [spiffeId], store));
  return map.get(spiffeId) ?? [];
}
