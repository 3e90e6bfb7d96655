import type { EntryFilter } from "@signet/proto/signet/plugin/server/datastore/v1/datastore";
import type { ListEntriesRequest_Filter } from "@signet/proto/spire/api/server/entry/v1/entry";
import type { TrustDomain } from "@signet/spiffe";
import { IdError, memberIdFromProto, parseTrustDomain, protoFromId, workloadIdFromProto } from "../../ids.js";
import { EntryInputError, selectorsFromApi } from "./convert.js";

/** Why a filter was refused: the message is SPIRE's whole text ("malformed … filter: <cause>"). */
export class FilterError extends Error {
  override readonly name = "FilterError";
}

/**
 * The Count/ListEntries filter as the DataStore takes it, checked as SPIRE
 * checks it: parent ID in the trust domain, SPIFFE ID a workload ID of the
 * trust domain, selectors well formed and non-empty, trust domains valid and
 * non-empty (stored by name).
 */
export function entryFilterFromApi(filter: ListEntriesRequest_Filter | undefined, td: TrustDomain): EntryFilter | undefined {
  if (!filter) return undefined;
  const out: EntryFilter = {
    bySpiffeId: undefined,
    byParentId: undefined,
    bySelectors: undefined,
    byFederatesWith: undefined,
  };
  if (filter.byHint !== undefined) out.byHint = filter.byHint;
  if (filter.byParentId) out.byParentId = protoFromId(malformed("parent ID", () => memberIdFromProto(td, filter.byParentId)));
  if (filter.bySpiffeId) out.bySpiffeId = protoFromId(malformed("SPIFFE ID", () => workloadIdFromProto(td, filter.bySpiffeId)));
  if (filter.bySelectors) {
    const match = filter.bySelectors;
    const selectors = malformed("selectors", () => selectorsFromApi(match.selectors));
    if (selectors.length === 0) throw new FilterError("malformed selectors filter: empty selector set");
    out.bySelectors = { selectors, match: match.match };
  }
  if (filter.byFederatesWith) {
    const match = filter.byFederatesWith;
    const trustDomains = match.trustDomains.map((name) => malformed("federates with", () => parseTrustDomain(name)).name);
    if (trustDomains.length === 0) throw new FilterError("malformed federates with filter: empty trust domain set");
    out.byFederatesWith = { trustDomains, match: match.match };
  }
  if (filter.byDownstream !== undefined) out.byDownstream = filter.byDownstream;
  return out;
}

function malformed<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EntryInputError || e instanceof IdError) throw new FilterError(`malformed ${what} filter: ${e.message}`);
    throw e;
  }
}
