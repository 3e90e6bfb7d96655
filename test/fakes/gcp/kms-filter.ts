/**
 * The `filter` of Google Cloud KMS list calls (ListCryptoKeys,
 * ListCryptoKeyVersions), the AIP-160 subset that clients such as SPIRE's
 * gcp_kms use: comparisons joined by AND, on `labels.<key>` and top-level
 * fields (`state`, `purpose`, `name`, `algorithm`), with =, !=, <, <=, >, >=.
 * A label the resource lacks matches no comparison. Ordering compares
 * numbers as numbers (label values such as Unix times) and text as text.
 */
export type Resource = { readonly labels?: Readonly<Record<string, string>> } & Readonly<Record<string, unknown>>;

interface Term {
  readonly field: string;
  readonly op: "=" | "!=" | "<" | "<=" | ">" | ">=";
  readonly value: string;
}

export class FilterError extends Error {}

const termPattern = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$/;

export function parseFilter(filter: string): Term[] {
  if (filter.trim() === "") return [];
  return filter.split(/\s+AND\s+/).map((text) => {
    const m = termPattern.exec(text);
    if (!m) throw new FilterError(`Invalid filter: cannot parse ${JSON.stringify(text)}`);
    const [, field, op, raw] = m as unknown as [string, string, Term["op"], string];
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (!field.startsWith("labels.") && !["state", "purpose", "name", "algorithm"].includes(field)) {
      throw new FilterError(`Invalid filter: unknown field ${JSON.stringify(field)}`);
    }
    return { field, op, value };
  });
}

export function matches(resource: Resource, terms: readonly Term[]): boolean {
  return terms.every((t) => {
    const actual = t.field.startsWith("labels.") ? resource.labels?.[t.field.slice("labels.".length)] : resource[t.field];
    if (typeof actual !== "string") return false;
    const c = compare(actual, t.value);
    switch (t.op) {
      case "=":
        return c === 0;
      case "!=":
        return c !== 0;
      case "<":
        return c < 0;
      case "<=":
        return c <= 0;
      case ">":
        return c > 0;
      case ">=":
        return c >= 0;
    }
  });
}

function compare(a: string, b: string): number {
  const numeric = /^-?\d+$/;
  if (numeric.test(a) && numeric.test(b)) return Math.sign(Number(a) - Number(b));
  return a < b ? -1 : a > b ? 1 : 0;
}
