/**
 * Federation relationships: how this server fetches a foreign trust domain's
 * bundle. Reads return the trust domain's stored bundle with the
 * relationship; a bundle given on write is stored as SetBundle stores it.
 */
import type { Knex } from "knex";
import type { FederationRelationship, FederationRelationshipMask } from "@signet/proto/spire/api/types/federationrelationship";
import { alreadyExists, invalid, notFound } from "./errors.js";
import { checkSpiffeId, trustDomainName } from "./ids.js";
import { pageToken, resumeAfter } from "./paging.js";
import { bundlesOf, setBundleTx } from "./bundles.js";
import { type Store, type Tx, EventKind, EventOp, read, write } from "./store.js";

interface RelationshipRow {
  trust_domain: string;
  bundle_endpoint_url: string;
  bundle_endpoint_profile: string;
  endpoint_spiffe_id: string;
}

type Profile = FederationRelationship["bundleEndpointProfile"];

function rowOf(td: string, url: string, profile: Profile): RelationshipRow {
  if (url === "") throw invalid("bundle endpoint URL is required");
  if (!profile) throw invalid("bundle endpoint profile is required");
  if (profile.$case === "httpsSpiffe") {
    if (profile.value.endpointSpiffeId === "") throw invalid("endpoint SPIFFE ID is required for the https_spiffe profile");
    checkSpiffeId(profile.value.endpointSpiffeId, "endpoint SPIFFE ID");
    return { trust_domain: td, bundle_endpoint_url: url, bundle_endpoint_profile: "https_spiffe", endpoint_spiffe_id: profile.value.endpointSpiffeId };
  }
  return { trust_domain: td, bundle_endpoint_url: url, bundle_endpoint_profile: "https_web", endpoint_spiffe_id: "" };
}

function relationshipOf(r: RelationshipRow, bundles: Map<string, FederationRelationship["trustDomainBundle"]>): FederationRelationship {
  return {
    trustDomain: r.trust_domain,
    bundleEndpointUrl: r.bundle_endpoint_url,
    bundleEndpointProfile:
      r.bundle_endpoint_profile === "https_spiffe"
        ? { $case: "httpsSpiffe", value: { endpointSpiffeId: r.endpoint_spiffe_id } }
        : { $case: "httpsWeb", value: {} },
    trustDomainBundle: bundles.get(r.trust_domain),
  };
}

async function storeBundle(tx: Tx, td: string, fr: FederationRelationship): Promise<void> {
  const b = fr.trustDomainBundle;
  if (!b) return;
  if (b.trustDomain !== "" && trustDomainName(b.trustDomain, "bundle trust domain") !== td) {
    throw invalid(`trust domain bundle is for ${JSON.stringify(b.trustDomain)}, not ${JSON.stringify(td)}`);
  }
  await setBundleTx(tx, { ...b, trustDomain: td });
}

export async function createFederationRelationship(store: Store, fr: FederationRelationship | undefined): Promise<FederationRelationship> {
  if (!fr) throw invalid("missing federation relationship");
  const td = trustDomainName(fr.trustDomain);
  const row = rowOf(td, fr.bundleEndpointUrl, fr.bundleEndpointProfile);
  return write(store, async (tx) => {
    if (await tx.trx("federation_relationships").where({ trust_domain: td }).first("trust_domain")) {
      throw alreadyExists(`federation relationship with trust domain ${JSON.stringify(td)} already exists`);
    }
    await storeBundle(tx, td, fr);
    await tx.trx("federation_relationships").insert(row);
    tx.event(EventKind.FEDERATION_RELATIONSHIP, EventOp.CREATED, td);
    return relationshipOf(row, await bundlesOf(tx.trx, store, [td]));
  });
}

export async function fetchFederationRelationship(store: Store, trustDomain: string): Promise<FederationRelationship> {
  const td = trustDomainName(trustDomain);
  return read(store, async (trx) => {
    const row = (await trx("federation_relationships").where({ trust_domain: td }).first("*")) as RelationshipRow | undefined;
    if (!row) throw notFound("no such federation relationship");
    return relationshipOf(row, await bundlesOf(trx, store, [td]));
  });
}

const listRpc = "ListFederationRelationships";

export async function listFederationRelationships(
  store: Store,
  pageSize: number,
  token: string,
): Promise<{ federationRelationships: FederationRelationship[]; nextPageToken: string }> {
  if (pageSize < 0) throw invalid("page size must not be negative");
  const after = resumeAfter(listRpc, token);
  return read(store, async (trx: Knex.Transaction) => {
    const q = trx("federation_relationships").select("*").orderBy("trust_domain");
    if (after !== undefined) q.where("trust_domain", ">", after);
    if (pageSize > 0) q.limit(pageSize + 1);
    const rows = (await q) as RelationshipRow[];
    const more = pageSize > 0 && rows.length > pageSize;
    const page = more ? rows.slice(0, pageSize) : rows;
    const bundles = await bundlesOf(trx, store, page.map((r) => r.trust_domain));
    return {
      federationRelationships: page.map((r) => relationshipOf(r, bundles)),
      nextPageToken: more ? pageToken(listRpc, page[page.length - 1]!.trust_domain) : "",
    };
  });
}

const allFields: FederationRelationshipMask = { bundleEndpointUrl: true, bundleEndpointProfile: true, trustDomainBundle: true };

export async function updateFederationRelationship(
  store: Store,
  fr: FederationRelationship | undefined,
  mask: FederationRelationshipMask | undefined,
): Promise<FederationRelationship> {
  if (!fr) throw invalid("missing federation relationship");
  const td = trustDomainName(fr.trustDomain);
  const m = mask ?? allFields;
  return write(store, async (tx) => {
    const q = tx.trx("federation_relationships").where({ trust_domain: td }).first("*");
    const current = (tx.dialect.rowLocks ? await q.forUpdate() : await q) as RelationshipRow | undefined;
    if (!current) throw notFound("no such federation relationship");
    const currentProfile = relationshipOf(current, new Map()).bundleEndpointProfile;
    const row = rowOf(
      td,
      m.bundleEndpointUrl ? fr.bundleEndpointUrl : current.bundle_endpoint_url,
      m.bundleEndpointProfile ? fr.bundleEndpointProfile : currentProfile,
    );
    if (m.trustDomainBundle) await storeBundle(tx, td, fr);
    await tx.trx("federation_relationships").where({ trust_domain: td }).update(row);
    tx.event(EventKind.FEDERATION_RELATIONSHIP, EventOp.UPDATED, td);
    return relationshipOf(row, await bundlesOf(tx.trx, store, [td]));
  });
}

export async function deleteFederationRelationship(store: Store, trustDomain: string): Promise<void> {
  const td = trustDomainName(trustDomain);
  await write(store, async (tx) => {
    const deleted = await tx.trx("federation_relationships").where({ trust_domain: td }).delete();
    if (Number(deleted) === 0) throw notFound("no such federation relationship");
    tx.event(EventKind.FEDERATION_RELATIONSHIP, EventOp.DELETED, td);
  });
}
