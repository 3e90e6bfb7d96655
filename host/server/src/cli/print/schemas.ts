/**
 * Field tables for every message the CLI prints with `-output json`
 * (names and kinds from SPIRE's API protos).
 */

const f = (name: string, key: string, kind: FieldSchema["kind"], repeated = false): FieldSchema =>
  repeated ? { name, key, kind, repeated } : { name, key, kind };
const msg = (schema: () => MessageSchema) => ({ message: schema });

const logLevels = { 0: "UNSPECIFIED", 1: "PANIC", 2: "FATAL", 3: "ERROR", 4: "WARN", 5: "INFO", 6: "DEBUG", 7: "TRACE" };

export const empty: MessageSchema = [];
export const spiffeId: MessageSchema = [f("trust_domain", "trustDomain", "string"), f("path", "path", "string")];
export const selector: MessageSchema = [f("type", "type", "string"), f("value", "value", "string")];
export const status: MessageSchema = [f("code", "code", "int32"), f("message", "message", "string")];

export const entry: MessageSchema = [
  f("id", "id", "string"),
  f("spiffe_id", "spiffeId", msg(() => spiffeId)),
  f("parent_id", "parentId", msg(() => spiffeId)),
  f("selectors", "selectors", msg(() => selector), true),
  f("x509_svid_ttl", "x509SvidTtl", "int32"),
  f("federates_with", "federatesWith", "string", true),
  f("admin", "admin", "bool"),
  f("downstream", "downstream", "bool"),
  f("expires_at", "expiresAt", "int64"),
  f("dns_names", "dnsNames", "string", true),
  f("revision_number", "revisionNumber", "int64"),
  f("store_svid", "storeSvid", "bool"),
  f("jwt_svid_ttl", "jwtSvidTtl", "int32"),
  f("hint", "hint", "string"),
  f("created_at", "createdAt", "int64"),
  f(
    "additional_attributes",
    "additionalAttributes",
    msg(() => [
      f("disable_x509_svid_prefetch", "disableX509SvidPrefetch", "bool"),
      f("jwt_svid_include_jti", "jwtSvidIncludeJti", "bool"),
    ]),
  ),
];

export const agent: MessageSchema = [
  f("id", "id", msg(() => spiffeId)),
  f("attestation_type", "attestationType", "string"),
  f("x509svid_serial_number", "x509svidSerialNumber", "string"),
  f("x509svid_expires_at", "x509svidExpiresAt", "int64"),
  f("selectors", "selectors", msg(() => selector), true),
  f("banned", "banned", "bool"),
  f("can_reattest", "canReattest", "bool"),
  f("agent_version", "agentVersion", "string"),
];

const x509Certificate: MessageSchema = [f("asn1", "asn1", "bytes"), f("tainted", "tainted", "bool")];
const jwtKey: MessageSchema = [
  f("public_key", "publicKey", "bytes"),
  f("key_id", "keyId", "string"),
  f("expires_at", "expiresAt", "int64"),
  f("tainted", "tainted", "bool"),
];

export const bundle: MessageSchema = [
  f("trust_domain", "trustDomain", "string"),
  f("x509_authorities", "x509Authorities", msg(() => x509Certificate), true),
  f("jwt_authorities", "jwtAuthorities", msg(() => jwtKey), true),
  f("refresh_hint", "refreshHint", "int64"),
  f("sequence_number", "sequenceNumber", "uint64"),
  f("wit_authorities", "witAuthorities", msg(() => jwtKey), true),
];

export const federationRelationship: MessageSchema = [
  f("trust_domain", "trustDomain", "string"),
  f("bundle_endpoint_url", "bundleEndpointUrl", "string"),
  { name: "https_web", key: "bundleEndpointProfile", kind: msg(() => []), oneofCase: "httpsWeb" },
  {
    name: "https_spiffe",
    key: "bundleEndpointProfile",
    kind: msg(() => [f("endpoint_spiffe_id", "endpointSpiffeId", "string")]),
    oneofCase: "httpsSpiffe",
  },
  f("trust_domain_bundle", "trustDomainBundle", msg(() => bundle)),
];

export const joinToken: MessageSchema = [f("value", "value", "string"), f("expires_at", "expiresAt", "int64")];
export const logger: MessageSchema = [
  f("current_level", "currentLevel", { enum: logLevels }),
  f("launch_level", "launchLevel", { enum: logLevels }),
];
export const count: MessageSchema = [f("count", "count", "int32")];

const results = (item: FieldSchema): MessageSchema => [
  f("results", "results", msg(() => [f("status", "status", msg(() => status)), item]), true),
];
export const batchEntryResponse = results(f("entry", "entry", msg(() => entry)));
export const batchDeleteEntryResponse = results(f("id", "id", "string"));
export const batchBundleResponse = results(f("bundle", "bundle", msg(() => bundle)));
export const batchDeleteByTrustDomainResponse = results(f("trust_domain", "trustDomain", "string"));
export const batchFederationResponse = results(
  f("federation_relationship", "federationRelationship", msg(() => federationRelationship)),
);

export const listEntriesResponse: MessageSchema = [
  f("entries", "entries", msg(() => entry), true),
  f("next_page_token", "nextPageToken", "string"),
];
export const listAgentsResponse: MessageSchema = [
  f("agents", "agents", msg(() => agent), true),
  f("next_page_token", "nextPageToken", "string"),
];
export const listFederatedBundlesResponse: MessageSchema = [
  f("bundles", "bundles", msg(() => bundle), true),
  f("next_page_token", "nextPageToken", "string"),
];
export const listFederationRelationshipsResponse: MessageSchema = [
  f("federation_relationships", "federationRelationships", msg(() => federationRelationship), true),
  f("next_page_token", "nextPageToken", "string"),
];

const authorityState: MessageSchema = [
  f("authority_id", "authorityId", "string"),
  f("expires_at", "expiresAt", "int64"),
  f("upstream_authority_subject_key_id", "upstreamAuthoritySubjectKeyId", "string"),
];
export const authorityStateResponse: MessageSchema = [
  f("active", "active", msg(() => authorityState)),
  f("prepared", "prepared", msg(() => authorityState)),
  f("old", "old", msg(() => authorityState)),
];
/** Prepare/Activate/Taint/Revoke responses: one AuthorityState under `field`. */
export const authorityResponse = (name: string, key: string): MessageSchema => [f(name, key, msg(() => authorityState))];
export const upstreamAuthorityResponse: MessageSchema = [
  f("upstream_authority_subject_key_id", "upstreamAuthoritySubjectKeyId", "string"),
];

export const mintJwtSvidResponse: MessageSchema = [
  f(
    "svid",
    "svid",
    msg(() => [
      f("token", "token", "string"),
      f("id", "id", msg(() => spiffeId)),
      f("expires_at", "expiresAt", "int64"),
      f("issued_at", "issuedAt", "int64"),
      f("hint", "hint", "string"),
    ]),
  ),
];

export const getInfoResponse: MessageSchema = [
  f(
    "svid_chain",
    "svidChain",
    msg(() => [f("id", "id", msg(() => spiffeId)), f("expires_at", "expiresAt", "int64"), f("subject", "subject", "string")]),
    true,
  ),
  f("uptime", "uptime", "int32"),
  f("agents_count", "agentsCount", "int32"),
  f("federated_bundles_count", "federatedBundlesCount", "int32"),
  f("entries_count", "entriesCount", "int32"),
];import type { FieldSchema, MessageSchema } from "@signet/host-common";

