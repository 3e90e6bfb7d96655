import type { Entry } from "@signet/proto/spire/api/types/entry";
import type { EncodedEntry } from "./encoded-entry.js";

/**
 * The in-memory entry cache and authorized-entries index (SPIRE's
 * pkg/server/authorizedentries), kept current from the DataStore change feed.
 * Everything here is synchronous: callers read the current snapshot.
 */
export interface AuthorizedEntries {
  /**
   * Entries the agent may obtain SVIDs for, in SPIRE's crawl order: entries
   * parented by the agent, then recursively by those entries' SPIFFE IDs,
   * then through every node alias whose selectors are all among the agent's
   * node selectors. `agentId` is a SPIFFE ID URI string. Entries come in
   * their wire encoding (see encoded-entry.ts), as the cache holds them.
   */
  authorizedEntries(agentId: string): readonly EncodedEntry[];
  /** One authorized entry by id, decoded, or undefined when the agent may not use it. */
  authorizedEntry(agentId: string, entryId: string): Entry | undefined;
  /** Some entry with this SPIFFE ID has admin=true. */
  isAdmin(spiffeId: string): boolean;
  /** Some entry with this SPIFFE ID has downstream=true. */
  isDownstream(spiffeId: string): boolean;
}
