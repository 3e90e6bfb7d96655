import { Entry, type EntryMask } from "@signet/proto/spire/api/types/entry";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import type { TrustDomain } from "@signet/spiffe";
import { IdError, memberIdFromProto, parseTrustDomain, protoFromId, workloadIdFromProto } from "../../ids.js";
import { dnsNameProblem } from "./dns-name.js";

/** Why an API entry (or a filter) was refused: SPIRE's cause text, without the "failed to …" prefix. */
export class EntryInputError extends Error {
  override readonly name = "EntryInputError";
}

export const hintMaximumLength = 1024;

export const allTrueEntryMask: EntryMask = Object.freeze({
  spiffeId: true,
  parentId: true,
  selectors: true,
  x509SvidTtl: true,
  federatesWith: true,
  admin: true,
  downstream: true,
  expiresAt: true,
  dnsNames: true,
  revisionNumber: true,
  storeSvid: true,
  jwtSvidTtl: true,
  hint: true,
  createdAt: true,
  additionalAttributes: true,
});

/**
 * Validates an entry from a create or update request and returns it
 * normalised for the DataStore, as SPIRE's ProtoToRegistrationEntryWithMask
 * does: only fields the mask flags are read (an absent mask flags all), the
 * others are left zero; IDs must be in the server trust domain (the SPIFFE ID
 * outside the reserved /spire namespace); federated trust domains are stored
 * by name. Throws EntryInputError with SPIRE's wording.
 */
export function entryFromApi(entry: Entry | undefined, td: TrustDomain, mask: EntryMask | undefined): Entry {
  if (!entry) throw new EntryInputError("missing entry");
  const m = mask ?? allTrueEntryMask;
  // Unflagged fields stay at their zero values; spiffe_id/parent_id stay unset unless flagged.
  const out: Entry = Entry.fromPartial({ id: entry.id });
  if (m.parentId) out.parentId = protoFromId(prefixed("invalid parent ID", () => memberIdFromProto(td, entry.parentId)));
  if (m.spiffeId) out.spiffeId = protoFromId(prefixed("invalid spiffe ID", () => workloadIdFromProto(td, entry.spiffeId)));
  if (m.admin) out.admin = entry.admin;
  if (m.dnsNames) {
    for (const name of entry.dnsNames) {
      const problem = dnsNameProblem(name);
      if (problem) throw new EntryInputError(`invalid DNS name: ${problem}`);
    }
    out.dnsNames = [...entry.dnsNames];
  }
  if (m.downstream) out.downstream = entry.downstream;
  if (m.expiresAt) out.expiresAt = entry.expiresAt;
  if (m.federatesWith) {
    out.federatesWith = entry.federatesWith.map(
      (name) => prefixed("invalid federated trust domain", () => parseTrustDomain(name)).name,
    );
  }
  if (m.selectors) {
    if (entry.selectors.length === 0) throw new EntryInputError("selector list is empty");
    out.selectors = selectorsFromApi(entry.selectors);
  }
  if (m.revisionNumber) out.revisionNumber = entry.revisionNumber;
  if (m.storeSvid) out.storeSvid = entry.storeSvid;
  if (m.x509SvidTtl) out.x509SvidTtl = entry.x509SvidTtl;
  if (m.jwtSvidTtl) out.jwtSvidTtl = entry.jwtSvidTtl;
  if (m.hint) {
    if (Buffer.byteLength(entry.hint) > hintMaximumLength) {
      throw new EntryInputError(`hint is too long, max length is ${hintMaximumLength} characters`);
    }
    out.hint = entry.hint;
  }
  if (m.additionalAttributes && entry.additionalAttributes) {
    out.additionalAttributes = { ...entry.additionalAttributes };
  }
  return out;
}

/** SPIRE's SelectorsFromProto: every selector needs a type without ':' and a value. */
export function selectorsFromApi(selectors: readonly Selector[]): Selector[] {
  return selectors.map((s) => {
    if (s.type === "") throw new EntryInputError("missing selector type");
    if (s.type.includes(":")) throw new EntryInputError("selector type contains ':'");
    if (s.value === "") throw new EntryInputError("missing selector value");
    return { type: s.type, value: s.value };
  });
}

/** "spiffe://td/path" for an API SPIFFEID, unchecked (for logs and cache lookups). */
export function idString(id: SPIFFEID | undefined): string {
  return id ? `spiffe://${id.trustDomain}${id.path}` : "";
}

function prefixed<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EntryInputError || e instanceof IdError) throw new EntryInputError(`${prefix}: ${e.message}`);
    throw e;
  }
}
