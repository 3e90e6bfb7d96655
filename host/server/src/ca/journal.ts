/**
 * The CA journal: every X.509 CA and JWT key this server prepared (the last
 * 10 of each), with its slot and status, stored through the DataStore so a
 * restarted server picks up the authorities it was signing with (SPIRE's
 * ca/manager journal). The payload is ours: versioned JSON, byte fields in
 * base64. The DataStore keys it by the active X.509 authority ID.
 */
import type { AuthorityStatus, SlotId } from "./slot.js";

export const journalVersion = 1;
/** SPIRE's journalCap: entries kept per authority kind. */
export const journalCap = 10;

export interface X509CaEntry {
  readonly slotId: SlotId;
  /** Unix seconds. */
  readonly issuedAt: number;
  readonly notAfter: number;
  readonly certificate: Buffer;
  /** [CA, upstream intermediates…] for upstream-signed CAs, else empty. */
  readonly upstreamChain: readonly Buffer[];
  status: AuthorityStatus;
  readonly authorityId: string;
  readonly upstreamAuthorityId: string;
}

export interface JwtKeyEntry {
  readonly slotId: SlotId;
  readonly issuedAt: number;
  readonly notAfter: number;
  readonly kid: string;
  /** SubjectPublicKeyInfo DER. */
  readonly publicKey: Buffer;
  status: AuthorityStatus;
  readonly authorityId: string;
}

export interface JournalEntries {
  x509Cas: X509CaEntry[];
  jwtKeys: JwtKeyEntry[];
}

/** A journal as the DataStore holds it (signet.plugin.server.datastore.v1.CAJournal). */
export interface StoredJournal {
  /** 0n until the DataStore assigned one. */
  readonly id: bigint;
  readonly activeX509AuthorityId: string;
  readonly data: Buffer;
  /** Latest expiry (Unix seconds) of anything in `data`, so the store can prune without reading it. */
  readonly expiresAt: number;
}

/** Where journals live; adapters over the DataStore are in datastore-adapters.ts. */
export interface JournalStore {
  /** The journal whose active X.509 authority is `authorityId`, if any. */
  fetch(authorityId: string): Promise<StoredJournal | undefined>;
  /** Creates (id 0n) or replaces the journal; resolves to its id. */
  save(journal: StoredJournal): Promise<bigint>;
  /** Deletes journals that expired before `expiresBefore`; resolves to how many. */
  prune(expiresBefore: Date): Promise<number>;
}

export class JournalError extends Error {
  override readonly name = "JournalError";
}

export function encodeJournal(entries: JournalEntries): Buffer {
  const b64 = (b: Buffer): string => b.toString("base64");
  return Buffer.from(
    JSON.stringify({
      version: journalVersion,
      x509CAs: entries.x509Cas.map((e) => ({ ...e, certificate: b64(e.certificate), upstreamChain: e.upstreamChain.map(b64) })),
      jwtKeys: entries.jwtKeys.map((e) => ({ ...e, publicKey: b64(e.publicKey) })),
    }),
  );
}

/** Reads a journal payload; JournalError when it is not one this version understands. */
export function decodeJournal(data: Buffer): JournalEntries {
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString("utf8"));
  } catch {
    throw new JournalError("CA journal is not JSON");
  }
  const o = asObject(doc, "CA journal");
  if (o.version !== journalVersion) throw new JournalError(`unsupported CA journal version ${JSON.stringify(o.version)}; expected ${journalVersion}`);
  const x509Cas = asArray(o.x509CAs, "x509CAs").map((raw, i): X509CaEntry => {
    const e = asObject(raw, `x509CAs[${i}]`);
    return {
      slotId: slotIdOf(e.slotId, `x509CAs[${i}].slotId`),
      issuedAt: int(e.issuedAt, `x509CAs[${i}].issuedAt`),
      notAfter: int(e.notAfter, `x509CAs[${i}].notAfter`),
      certificate: bytes(e.certificate, `x509CAs[${i}].certificate`),
      upstreamChain: asArray(e.upstreamChain, `x509CAs[${i}].upstreamChain`).map((c, j) => bytes(c, `x509CAs[${i}].upstreamChain[${j}]`)),
      status: statusOf(e.status, `x509CAs[${i}].status`),
      authorityId: str(e.authorityId, `x509CAs[${i}].authorityId`),
      upstreamAuthorityId: str(e.upstreamAuthorityId, `x509CAs[${i}].upstreamAuthorityId`),
    };
  });
  const jwtKeys = asArray(o.jwtKeys, "jwtKeys").map((raw, i): JwtKeyEntry => {
    const e = asObject(raw, `jwtKeys[${i}]`);
    return {
      slotId: slotIdOf(e.slotId, `jwtKeys[${i}].slotId`),
      issuedAt: int(e.issuedAt, `jwtKeys[${i}].issuedAt`),
      notAfter: int(e.notAfter, `jwtKeys[${i}].notAfter`),
      kid: str(e.kid, `jwtKeys[${i}].kid`),
      publicKey: bytes(e.publicKey, `jwtKeys[${i}].publicKey`),
      status: statusOf(e.status, `jwtKeys[${i}].status`),
      authorityId: str(e.authorityId, `jwtKeys[${i}].authorityId`),
    };
  });
  return { x509Cas, jwtKeys };
}

/**
 * The journal of this server: its entries, and where they are stored. Saving
 * waits until an X.509 authority is active, since that is the store's key
 * (as SPIRE). Save failures are reported to the caller, who logs them: the
 * authorities in memory stay usable.
 */
export class Journal {
  private activeX509AuthorityId = "";

  private constructor(
    private readonly store: JournalStore,
    private entries: JournalEntries,
    private id: bigint,
  ) {}

  static empty(store: JournalStore): Journal {
    return new Journal(store, { x509Cas: [], jwtKeys: [] }, 0n);
  }

  /** Finds this server's journal: the one keyed by any of the authority IDs of the KeyManager's keys. */
  static async load(store: JournalStore, candidateAuthorityIds: readonly string[]): Promise<Journal> {
    for (const authorityId of candidateAuthorityIds) {
      const stored = await store.fetch(authorityId);
      if (!stored) continue;
      const journal = new Journal(store, decodeJournal(stored.data), stored.id);
      journal.activeX509AuthorityId = stored.activeX509AuthorityId;
      return journal;
    }
    return Journal.empty(store);
  }

  /** A copy of the entries, oldest first. */
  snapshot(): JournalEntries {
    return { x509Cas: this.entries.x509Cas.map((e) => ({ ...e })), jwtKeys: this.entries.jwtKeys.map((e) => ({ ...e })) };
  }

  get storedId(): bigint {
    return this.id;
  }

  async appendX509Ca(entry: Omit<X509CaEntry, "status">): Promise<void> {
    this.entries.x509Cas = [...this.entries.x509Cas, { ...entry, status: "PREPARED" as AuthorityStatus }].slice(-journalCap);
    await this.save();
  }

  async updateX509CaStatus(authorityId: string, status: AuthorityStatus): Promise<void> {
    const entry = [...this.entries.x509Cas].reverse().find((e) => e.authorityId === authorityId);
    if (!entry) throw new JournalError(`no journal entry found with authority ID ${JSON.stringify(authorityId)}`);
    entry.status = status;
    if (status === "ACTIVE") this.activeX509AuthorityId = authorityId;
    await this.save();
  }

  async appendJwtKey(entry: Omit<JwtKeyEntry, "status">): Promise<void> {
    this.entries.jwtKeys = [...this.entries.jwtKeys, { ...entry, status: "PREPARED" as AuthorityStatus }].slice(-journalCap);
    await this.save();
  }

  async updateJwtKeyStatus(authorityId: string, status: AuthorityStatus): Promise<void> {
    const entry = [...this.entries.jwtKeys].reverse().find((e) => e.authorityId === authorityId);
    if (!entry) throw new JournalError(`no journal entry found with authority ID ${JSON.stringify(authorityId)}`);
    entry.status = status;
    await this.save();
  }

  private async save(): Promise<void> {
    if (this.activeX509AuthorityId === "") return;
    const expiresAt = Math.max(0, ...this.entries.x509Cas.map((e) => e.notAfter), ...this.entries.jwtKeys.map((e) => e.notAfter));
    this.id = await this.store.save({ id: this.id, activeX509AuthorityId: this.activeX509AuthorityId, data: encodeJournal(this.entries), expiresAt });
  }
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new JournalError(`${what}: expected an object`);
  return v as Record<string, unknown>;
}
function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new JournalError(`${what}: expected an array`);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new JournalError(`${what}: expected a string`);
  return v;
}
function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new JournalError(`${what}: expected an integer`);
  return v;
}
function bytes(v: unknown, what: string): Buffer {
  if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new JournalError(`${what}: expected base64`);
  return Buffer.from(v, "base64");
}
function slotIdOf(v: unknown, what: string): SlotId {
  if (v !== "A" && v !== "B") throw new JournalError(`${what}: expected "A" or "B"`);
  return v;
}
const statuses: readonly AuthorityStatus[] = ["UNKNOWN", "PREPARED", "ACTIVE", "OLD"];
function statusOf(v: unknown, what: string): AuthorityStatus {
  if (!statuses.includes(v as AuthorityStatus)) throw new JournalError(`${what}: unknown status ${JSON.stringify(v)}`);
  return v as AuthorityStatus;
}
