/**
 * `-output json` as spire-server prints it: protojson with proto field
 * names (snake_case) and every unpopulated field emitted, then re-encoded by
 * Go's encoding/json, which drops nulls (unset messages), sorts object keys,
 * escapes <, > and &, and ends with a newline. int64/uint64 are strings,
 * bytes are standard base64, enums are their names.
 *
 * ts-proto's toJSON differs (camelCase, defaults omitted), so messages are
 * described here by small field tables.
 */

export type Kind =
  | "string"
  | "bool"
  | "int32"
  | "int64"
  | "uint64"
  | "bytes"
  | { readonly enum: Readonly<Record<number, string>> }
  | { readonly message: () => MessageSchema };

export interface FieldSchema {
  /** Proto field name, as printed. */
  readonly name: string;
  /** Property in the ts-proto object. */
  readonly key: string;
  readonly kind: Kind;
  readonly repeated?: boolean;
  /** Member of a oneof held in `key` as `{ $case, value }`. */
  readonly oneofCase?: string;
}

export type MessageSchema = readonly FieldSchema[];

/** The JSON value protojson (UseProtoNames, EmitUnpopulated) yields, nulls removed. */
export function protoJsonValue(schema: MessageSchema, message: unknown): Record<string, unknown> {
  const msg = (message ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of schema) {
    const raw = msg[field.key];
    if (field.oneofCase !== undefined) {
      const one = raw as { $case: string; value: unknown } | undefined;
      if (one?.$case === field.oneofCase) out[field.name] = scalar(field.kind, one.value);
      continue;
    }
    if (field.repeated) {
      out[field.name] = ((raw as unknown[] | undefined) ?? []).map((v) => scalar(field.kind, v));
      continue;
    }
    if (typeof field.kind === "object" && "message" in field.kind && raw === undefined) continue;
    out[field.name] = scalar(field.kind, raw);
  }
  return out;
}

function scalar(kind: Kind, v: unknown): unknown {
  if (typeof kind === "object") {
    if ("enum" in kind) {
      const n = (v as number | undefined) ?? 0;
      return kind.enum[n] ?? n;
    }
    return protoJsonValue(kind.message(), v);
  }
  switch (kind) {
    case "string":
      return (v as string | undefined) ?? "";
    case "bool":
      return (v as boolean | undefined) ?? false;
    case "int32":
      return (v as number | undefined) ?? 0;
    case "int64":
    case "uint64":
      return String((v as bigint | undefined) ?? 0n);
    case "bytes":
      return Buffer.from((v as Uint8Array | undefined) ?? new Uint8Array()).toString("base64");
  }
}

/** Go's json.Marshal of a map: keys sorted at every level, HTML-safe escaping. */
export function goJsonSorted(value: unknown): string {
  return goEscape(JSON.stringify(sortKeys(value)));
}

/** Go's json.Marshal of a struct: keys in declaration order (the object's own order). */
export function goJsonStruct(value: unknown): string {
  return goEscape(JSON.stringify(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** spire-server's protojson printer: one message as an object, several as an array, then "\n". */
export function formatProtoJson(schema: MessageSchema, ...messages: unknown[]): string {
  const values = messages.map((m) => protoJsonValue(schema, m));
  return `${goJsonSorted(values.length === 1 ? values[0] : values)}\n`;
}
