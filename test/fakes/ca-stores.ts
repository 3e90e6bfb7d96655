/**
 * In-memory implementations of the CA's store interfaces
 * (host/server/src/ca: BundleStore, JournalStore) with the DataStore's
 * semantics: append skips authorities already present, every change raises
 * sequence_number, prune never empties a kind of authority.
 */
import { X509Certificate } from "node:crypto";
import type { Bundle, JWTKey } from "@signet/proto/spire/api/types/bundle";
import type { BundleStore } from "../../host/server/src/ca/bundle.js";
import type { JournalStore, StoredJournal } from "../../host/server/src/ca/journal.js";

export class MemoryBundleStore implements BundleStore {
  bundle: Bundle | undefined;
  /** Set to make the next writes fail (an unavailable datastore). */
  failWrites: Error | undefined;

  constructor(readonly trustDomain: string) {}

  async fetch(): Promise<Bundle | undefined> {
    return this.bundle && cloneBundle(this.bundle);
  }

  async append({ x509 = [], jwt = [] }: { readonly x509?: readonly Buffer[]; readonly jwt?: readonly JWTKey[] }): Promise<Bundle> {
    if (this.failWrites) throw this.failWrites;
    const b = this.bundle ?? { trustDomain: this.trustDomain, x509Authorities: [], jwtAuthorities: [], refreshHint: 0n, sequenceNumber: 0n, witAuthorities: [] };
    let changed = false;
    for (const asn1 of x509) {
      if (b.x509Authorities.some((a) => a.asn1.equals(asn1))) continue;
      b.x509Authorities.push({ asn1: Buffer.from(asn1), tainted: false });
      changed = true;
    }
    for (const k of jwt) {
      if (b.jwtAuthorities.some((a) => a.keyId === k.keyId)) continue;
      b.jwtAuthorities.push({ ...k });
      changed = true;
    }
    if (changed) b.sequenceNumber++;
    this.bundle = b;
    return cloneBundle(b);
  }

  async update(change: (current: Bundle) => Pick<Bundle, "x509Authorities" | "jwtAuthorities">): Promise<Bundle> {
    if (this.failWrites) throw this.failWrites;
    const current = this.bundle ?? { trustDomain: this.trustDomain, x509Authorities: [], jwtAuthorities: [], refreshHint: 0n, sequenceNumber: 0n, witAuthorities: [] };
    const next = change(cloneBundle(current));
    this.bundle = { ...current, ...next, sequenceNumber: current.sequenceNumber + 1n };
    return cloneBundle(this.bundle);
  }

  async prune(expiresBefore: Date): Promise<boolean> {
    const b = this.bundle;
    if (!b) return false;
    const x509 = b.x509Authorities.filter((a) => Date.parse(new X509Certificate(a.asn1).validTo) > expiresBefore.getTime());
    const jwt = b.jwtAuthorities.filter((k) => k.expiresAt === 0n || Number(k.expiresAt) * 1000 > expiresBefore.getTime());
    if (x509.length === b.x509Authorities.length && jwt.length === b.jwtAuthorities.length) return false;
    if (x509.length === 0 || (b.jwtAuthorities.length > 0 && jwt.length === 0)) throw new Error("prune failed: would prune all authorities");
    this.bundle = { ...b, x509Authorities: x509, jwtAuthorities: jwt, sequenceNumber: b.sequenceNumber + 1n };
    return true;
  }
}

export class MemoryJournalStore implements JournalStore {
  readonly journals = new Map<bigint, StoredJournal>();
  private nextId = 1n;

  async fetch(authorityId: string): Promise<StoredJournal | undefined> {
    for (const j of this.journals.values()) if (j.activeX509AuthorityId === authorityId) return j;
    return undefined;
  }

  async save(journal: StoredJournal): Promise<bigint> {
    if (!journal.activeX509AuthorityId) throw new Error("active_x509_authority_id is required");
    if (journal.id === 0n) {
      const id = this.nextId++;
      this.journals.set(id, { ...journal, id });
      return id;
    }
    if (!this.journals.has(journal.id)) throw new Error("journal not found");
    this.journals.set(journal.id, journal);
    return journal.id;
  }

  async prune(expiresBefore: Date): Promise<number> {
    let n = 0;
    for (const [id, j] of this.journals) {
      if (j.expiresAt * 1000 < expiresBefore.getTime()) {
        this.journals.delete(id);
        n++;
      }
    }
    return n;
  }
}

function cloneBundle(b: Bundle): Bundle {
  return {
    ...b,
    x509Authorities: b.x509Authorities.map((a) => ({ ...a, asn1: Buffer.from(a.asn1) })),
    jwtAuthorities: b.jwtAuthorities.map((k) => ({ ...k, publicKey: Buffer.from(k.publicKey) })),
    witAuthorities: b.witAuthorities.map((k) => ({ ...k, publicKey: Buffer.from(k.publicKey) })),
  };
}
