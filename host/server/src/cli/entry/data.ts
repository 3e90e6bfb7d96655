/**
 * `-data` files for `entry create|update`: SPIRE's RegistrationEntries JSON
 * (`{"entries":[{"spiffe_id":"spiffe://…","parent_id":…,"selectors":[{"type":…,"value":…}],…}]}`),
 * decoded the way Go's encoding/json decodes it (keys matched without regard
 * to case, unknown keys ignored, wrong types rejected) and converted as
 * api.RegistrationEntryToProto does.
 */
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "@signet/spiffe";
import { CliError } from "@signet/host-common";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Kind = "string" | "int32" | "int64" | "bool" | "strings" | "selectors" | "attributes";

const fields: Record<string, Kind> = {
  selectors: "selectors",
  parent_id: "string",
  spiffe_id: "string",
  x509_svid_ttl: "int32",
  federates_with: "strings",
  entry_id: "string",
  admin: "bool",
  downstream: "bool",
  entryexpiry: "int64",
  dns_names: "strings",
  revision_number: "int64",
  store_svid: "bool",
  jwt_svid_ttl: "int32",
  hint: "string",
  created_at: "int64",
  additional_attributes: "attributes",
};

const goType: Record<Kind, string> = {
  string: "string",
  int32: "int32",
  int64: "int64",
  bool: "bool",
  strings: "[]string",
  selectors: "[]*common.Selector",
  attributes: "common.RegistrationEntry_AdditionalAttributes",
};

export function parseEntriesJson(data: Uint8Array): Entry[] {
  let doc: Json;
  try {
    doc = JSON.parse(Buffer.from(data).toString("utf8")) as Json;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (doc === null) return [];
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new CliError(`json: cannot unmarshal ${jsonKind(doc)} into Go value of type common.RegistrationEntries`);
  }
  const list = lookup(doc, "entries");
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    throw new CliError(`json: cannot unmarshal ${jsonKind(list)} into Go struct field RegistrationEntries.entries of type []*common.RegistrationEntry`);
  }
  return list.map((item) => toEntry(decodeEntry(item)));
}

interface Decoded {
  [k: string]: unknown;
}

function decodeEntry(item: Json): Decoded | null {
  if (item === null) return null;
  if (typeof item !== "object" || Array.isArray(item)) {
    throw new CliError(`json: cannot unmarshal ${jsonKind(item)} into Go struct field RegistrationEntries.entries of type common.RegistrationEntry`);
  }
  const out: Decoded = {};
  for (const [rawKey, value] of Object.entries(item)) {
    const key = rawKey.toLowerCase();
    const kind = fields[key];
    if (!kind || value === null) continue;
    out[key] = decodeValue(kind, value, `RegistrationEntries.entries.${key === "entryexpiry" ? "entryExpiry" : key}`);
  }
  return out;
}

function decodeValue(kind: Kind, v: Json, where: string): unknown {
  const bad = () => new CliError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${where} of type ${goType[kind]}`);
  switch (kind) {
    case "string":
      if (typeof v !== "string") throw bad();
      return v;
    case "bool":
      if (typeof v !== "boolean") throw bad();
      return v;
    case "int32":
    case "int64": {
      if (typeof v !== "number" || !Number.isInteger(v)) throw bad();
      const limit = kind === "int32" ? 2 ** 31 : 2 ** 63;
      if (v >= limit || v < -limit) throw bad();
      return v;
    }
    case "strings":
      if (!Array.isArray(v)) throw bad();
      return v.map((s) => {
        if (s === null) return "";
        if (typeof s !== "string") throw new CliError(`json: cannot unmarshal ${jsonKind(s)} into Go struct field ${where} of type string`);
        return s;
      });
    case "selectors":
      if (!Array.isArray(v)) throw bad();
      return v.map((s) => {
        if (s === null) return { type: "", value: "" };
        if (typeof s !== "object" || Array.isArray(s)) {
          throw new CliError(`json: cannot unmarshal ${jsonKind(s)} into Go struct field ${where} of type common.Selector`);
        }
        const type = lookup(s, "type");
        const value = lookup(s, "value");
        for (const [name, x] of [["type", type], ["value", value]] as const) {
          if (x !== undefined && x !== null && typeof x !== "string") {
            throw new CliError(`json: cannot unmarshal ${jsonKind(x)} into Go struct field ${where}.${name} of type string`);
          }
        }
        return { type: (type as string | undefined) ?? "", value: (value as string | undefined) ?? "" };
      });
    case "attributes": {
      if (typeof v !== "object" || Array.isArray(v)) throw bad();
      const get = (name: string) => {
        const x = lookup(v, name);
        if (x === undefined || x === null) return false;
        if (typeof x !== "boolean") throw new CliError(`json: cannot unmarshal ${jsonKind(x)} into Go struct field ${where}.${name} of type bool`);
        return x;
      };
      return { disableX509SvidPrefetch: get("disable_x509_svid_prefetch"), jwtSvidIncludeJti: get("jwt_svid_include_jti") };
    }
  }
}

function toEntry(d: Decoded | null): Entry {
  if (d === null) throw new CliError("missing registration entry");
  const spiffeId = parseId((d.spiffe_id as string) ?? "", "invalid SPIFFE ID");
  const parentId = parseId((d.parent_id as string) ?? "", "invalid parent ID");
  const federatesWith = ((d.federates_with as string[]) ?? []).map((td) => {
    try {
      return TrustDomain.parse(td).name;
    } catch (e) {
      throw new CliError(`invalid federated trust domain: ${e instanceof TrustDomainError ? e.reason : String(e)}`);
    }
  });
  const entry: Entry = {
    id: (d.entry_id as string) ?? "",
    spiffeId,
    parentId,
    selectors: (d.selectors as Entry["selectors"]) ?? [],
    x509SvidTtl: (d.x509_svid_ttl as number) ?? 0,
    federatesWith,
    admin: (d.admin as boolean) ?? false,
    downstream: (d.downstream as boolean) ?? false,
    expiresAt: BigInt((d.entryexpiry as number) ?? 0),
    dnsNames: (d.dns_names as string[]) ?? [],
    revisionNumber: BigInt((d.revision_number as number) ?? 0),
    storeSvid: (d.store_svid as boolean) ?? false,
    jwtSvidTtl: (d.jwt_svid_ttl as number) ?? 0,
    hint: (d.hint as string) ?? "",
    createdAt: BigInt((d.created_at as number) ?? 0),
  };
  if (d.additional_attributes !== undefined) entry.additionalAttributes = d.additional_attributes as Entry["additionalAttributes"];
  return entry;
}

function parseId(text: string, what: string) {
  try {
    const id = SpiffeId.parse(text);
    return { trustDomain: id.trustDomain.name, path: id.path };
  } catch (e) {
    throw new CliError(`${what}: ${e instanceof SpiffeIdError ? e.reason : String(e)}`);
  }
}

/** encoding/json's field match: exact name first, then case-insensitive. */
function lookup(obj: { [k: string]: Json } | null, name: string): Json | undefined {
  if (obj === null) return undefined;
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function jsonKind(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v === "number" ? "number" : typeof v === "string" ? "string" : "bool";
}
